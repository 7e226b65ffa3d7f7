package symbols

import "slices"

// Layered type lookups: the vmlinux's types and those of the modules whose
// debuginfo is loaded, looked up as crash (gdb) does, the vmlinux first.

// Layered returns a view of base and more that looks a name up in base,
// then in each of more in order: the first definition found wins, a mere
// declaration only when no layer defines the name. With nothing in more it
// is base itself. The view's Index is base's.
func Layered(base *Types, more ...*Types) *Types {
	if len(more) == 0 {
		return base
	}
	return &Types{layers: append([]*Types{base}, more...), void: base.void}
}

func (ts *Types) layeredLookup(name string) (*Type, error) {
	var decl *Type
	var first error
	for _, l := range ts.layers {
		t, err := l.Lookup(name)
		if err != nil {
			if first == nil {
				first = err
			}
			if !IsMissing(err) && decl == nil && l == ts.layers[0] {
				return nil, err
			}
			continue
		}
		if !t.Decl {
			return t, nil
		}
		if decl == nil {
			decl = t
		}
	}
	if decl != nil {
		return decl, nil
	}
	return nil, first
}

func (ts *Types) layeredObjectType(name string) (*Type, Kind, error) {
	var first error
	for _, l := range ts.layers {
		t, k, err := l.ObjectType(name)
		if err == nil {
			return t, k, nil
		}
		if first == nil {
			first = err
		}
		if !IsMissing(err) && l == ts.layers[0] {
			return nil, 0, err
		}
	}
	return nil, 0, first
}

func (ts *Types) layeredEnumerator(name string) (int64, *Type, error) {
	var first error
	for _, l := range ts.layers {
		v, t, err := l.Enumerator(name)
		if err == nil {
			return v, t, nil
		}
		if first == nil {
			first = err
		}
	}
	return 0, nil, first
}

// Defines reports whether a type of one of kinds is called name (in any
// layer of a layered view).
func (ts *Types) Defines(name string, kinds ...Kind) bool {
	if ts.layers != nil {
		for _, l := range ts.layers {
			if l.Defines(name, kinds...) {
				return true
			}
		}
		return false
	}
	if ts.missingType(name, kinds) {
		return false
	}
	if len(kinds) > 0 && !slices.ContainsFunc(kinds, Kind.IsType) {
		if _, ok := ts.quickObject(name); ok {
			return true
		}
	}
	ix := ts.Index()
	return ix != nil && len(ix.Lookup(name, kinds...)) > 0
}
