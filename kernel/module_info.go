package kernel

import (
	"fmt"

	"github.com/gocrash/gocrash/symbols"
)

// ModuleInfo is what a struct module says about where the module came
// from: its taint flags (TAINT_* bits, as the kernel's tainted_mask) and
// the version strings modinfo shows ("" where the module has none or the
// kernel does not keep them).
type ModuleInfo struct {
	Taints     uint64
	Version    string // module.version (MODULE_VERSION)
	SrcVersion string // module.srcversion (CONFIG_MODULE_SRCVERSION_ALL or MODULE_VERSION)
}

// ModuleInfo reads m's taints, version and srcversion; members this kernel
// lacks are left empty.
func (k *ModuleList) ModuleInfo(m *Module) (ModuleInfo, error) {
	var mi ModuleInfo
	if off, err := k.Offset("module", "taints"); err == nil {
		if mi.Taints, err = k.ReadU64(m.Addr + uint64(off)); err != nil {
			return mi, fmt.Errorf("module %s taints: %w", m.Name, err)
		}
	} else if !symbols.IsMissing(err) {
		return mi, err
	}
	for _, f := range []struct {
		member string
		dst    *string
	}{{"version", &mi.Version}, {"srcversion", &mi.SrcVersion}} {
		off, err := k.Offset("module", f.member)
		if symbols.IsMissing(err) {
			continue
		} else if err != nil {
			return mi, err
		}
		p, err := k.ReadU64(m.Addr + uint64(off))
		if err != nil {
			return mi, fmt.Errorf("module %s %s: %w", m.Name, f.member, err)
		}
		if p == 0 {
			continue
		}
		if *f.dst, err = k.ReadCString(p, 256); err != nil {
			return mi, fmt.Errorf("module %s %s: %w", m.Name, f.member, err)
		}
	}
	return mi, nil
}
