// Package archs chooses the arch.Arch implementation for a dump by the
// machine it records.
package archs

import (
	"fmt"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/arch/arm64"
	"github.com/gocrash/gocrash/arch/x86_64"
)

// New returns the architecture for cfg.Dump.
func New(cfg arch.Config) (arch.Arch, error) {
	switch cfg.Dump.Machine {
	case "x86_64":
		return x86_64.New(cfg)
	case "aarch64", "arm64":
		if cfg.Dump.VMCoreInfo == nil {
			return nil, fmt.Errorf("%s: the dump has no VMCOREINFO; arm64 dumps without it are not supported yet", cfg.Dump.Path)
		}
		return arm64.New(cfg)
	}
	return nil, fmt.Errorf("%s: machine %q is not supported", cfg.Dump.Path, cfg.Dump.Machine)
}
