package kernel_test

import (
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
	"github.com/gocrash/gocrash/kernel"
	"github.com/gocrash/gocrash/memory"
	"github.com/gocrash/gocrash/symbols"
)

// benchKernels opens the kdump-compressed file of each corpus run.
func benchKernels(b *testing.B, fn func(b *testing.B, k *kernel.Kernel)) {
	for _, r := range corpus.Runs(b) {
		for _, f := range r.Files {
			if f.Format == "elf" || len(f.Parts) > 0 {
				continue
			}
			b.Run(r.Name+"/"+f.Name, func(b *testing.B) {
				d, err := memory.OpenFiles(f.Paths()...)
				if err != nil {
					b.Fatal(err)
				}
				defer d.Close()
				v, err := symbols.Open(r.Vmlinux)
				if err != nil {
					b.Fatal(err)
				}
				defer v.Close()
				k, err := kernel.New(d, v)
				if err != nil {
					b.Fatal(err)
				}
				fn(b, k)
			})
			break
		}
	}
}

func BenchmarkTasks(b *testing.B) {
	benchKernels(b, func(b *testing.B, k *kernel.Kernel) {
		for i := 0; i < b.N; i++ {
			if _, err := k.Tasks(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkLog(b *testing.B) {
	benchKernels(b, func(b *testing.B, k *kernel.Kernel) {
		for i := 0; i < b.N; i++ {
			if _, err := k.Log(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkTranslate: page-table walks of task_struct addresses (the direct
// map) and kernel symbols, uncached (Arch.KernelWalk) and through the
// kernel's per-page translation cache (VirtToPhys).
func BenchmarkTranslate(b *testing.B) {
	benchKernels(b, func(b *testing.B, k *kernel.Kernel) {
		addrs, err := k.TaskAddrs()
		if err != nil {
			b.Fatal(err)
		}
		for _, s := range []string{"linux_banner", "jiffies_64", "init_uts_ns", "prb"} {
			if a, err := k.SymbolAddr(s); err == nil {
				addrs = append(addrs, a)
			}
		}
		b.Run("walk", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := k.Arch.KernelWalk(addrs[i%len(addrs)]); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("cached", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := k.VirtToPhys(addrs[i%len(addrs)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}
