package kernel

import (
	"fmt"
	"sync"

	"github.com/gocrash/gocrash/symbols"
)

// Modules' BTF (CONFIG_DEBUG_INFO_BTF_MODULES): a module's .BTF section is
// freed once it is loaded (do_init_module clears mod->btf_data), but the
// kernel keeps the parsed copy in a struct btf on its btf_modules list
// (kernel/bpf/btf.c). Each is a split BTF over the vmlinux's: its type ids
// start at btf->start_id, after the vmlinux's.

// maxModuleBTF bounds one module's BTF read from the dump.
const maxModuleBTF = 16 << 20

// ModuleBTF is one loaded module's BTF as the kernel keeps it.
type ModuleBTF struct {
	Module  string // btf->name
	Addr    uint64 // the struct btf
	StartID uint32 // its first type id
	Data    []byte // btf->data: header, types, strings
}

// moduleBTFs caches the modules' BTF and type models (read once).
type moduleBTFs struct {
	once  sync.Once
	btfs  []ModuleBTF
	err   error
	tonce sync.Once
	types []*symbols.Types
	terr  error
}

// ModulesBTF reads the loaded modules' BTF from the kernel's btf_modules
// list, in load order. A kernel without module BTF (no btf_modules: 5.10,
// or CONFIG_DEBUG_INFO_BTF_MODULES off) has none, a *symbols.MissingError.
func (k *ModuleList) ModulesBTF() ([]ModuleBTF, error) {
	k.btf.once.Do(func() { k.btf.btfs, k.btf.err = k.readModulesBTF() })
	return k.btf.btfs, k.btf.err
}

func (k *ModuleList) readModulesBTF() ([]ModuleBTF, error) {
	head, err := k.SymbolAddr("btf_modules")
	if err != nil {
		return nil, err
	}
	var offs [6]int64
	for i, f := range []struct{ s, m string }{{"btf_module", "list"}, {"btf_module", "btf"},
		{"btf", "data"}, {"btf", "data_size"}, {"btf", "start_id"}, {"btf", "name"}} {
		if offs[i], err = k.Offset(f.s, f.m); err != nil {
			return nil, err
		}
	}
	listOff, btfOff, dataOff, sizeOff, startOff, nameOff := offs[0], offs[1], offs[2], offs[3], offs[4], offs[5]
	var out []ModuleBTF
	var bad UnreadableObjectsError
	err = walkList(k, head, func(node uint64) error {
		bm := node - uint64(listOff)
		b, err := k.readModuleBTF(bm+uint64(btfOff), dataOff, sizeOff, startOff, nameOff)
		if err != nil {
			bad = append(bad, fmt.Errorf("btf_module %x: %w", bm, err))
			return nil
		}
		out = append(out, b)
		return nil
	})
	return out, bad.or(err)
}

func (k *ModuleList) readModuleBTF(ptr uint64, dataOff, sizeOff, startOff, nameOff int64) (ModuleBTF, error) {
	addr, err := k.ReadU64(ptr)
	if err != nil {
		return ModuleBTF{}, err
	}
	b := ModuleBTF{Addr: addr}
	if b.Module, err = k.ReadCString(addr+uint64(nameOff), 64); err != nil {
		return b, err
	}
	if b.StartID, err = k.ReadU32(addr + uint64(startOff)); err != nil {
		return b, err
	}
	data, err := k.ReadU64(addr + uint64(dataOff))
	if err != nil {
		return b, err
	}
	size, err := k.ReadU32(addr + uint64(sizeOff))
	if err != nil {
		return b, err
	}
	if size > maxModuleBTF {
		return b, fmt.Errorf("module %s's BTF is %d bytes", b.Module, size)
	}
	b.Data = make([]byte, size)
	if err := k.ReadVirt(b.Data, data); err != nil {
		return b, fmt.Errorf("module %s's BTF: %w", b.Module, err)
	}
	return b, nil
}

// ModuleTypes is the type model of each loaded module's BTF over base
// (the vmlinux's BTF type model), in load order; a module whose BTF cannot
// be read or does not continue base's ids is left out (and named in the
// error). Read once.
func (k *ModuleList) ModuleTypes(base *symbols.Types) ([]*symbols.Types, error) {
	k.btf.tonce.Do(func() {
		btfs, err := k.ModulesBTF()
		var bad UnreadableObjectsError
		for _, b := range btfs {
			ts, terr := symbols.NewSplitBTFTypes(b.Data, base)
			if terr == nil && ts.BTFStartID() != b.StartID {
				terr = fmt.Errorf("its type ids start at %d, the vmlinux's BTF ends at %d", b.StartID, ts.BTFStartID())
			}
			if terr != nil {
				bad = append(bad, fmt.Errorf("module %s's BTF: %w", b.Module, terr))
				continue
			}
			k.btf.types = append(k.btf.types, ts)
		}
		k.btf.terr = bad.or(err)
	})
	return k.btf.types, k.btf.terr
}
