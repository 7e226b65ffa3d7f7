package memory

import (
	"math/rand"
	"os"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
)

// Synthetic: 16 MiB of pages in each compression, random page reads (the
// LRU holds 1024 of the 4096 pages, so most reads decode).
func BenchmarkKdumpRandomPage(b *testing.B) {
	const n = 4096
	pages := make([]testPage, n)
	for i := range pages {
		p := patternPage(uint64(i), 4096)
		for j := 0; j < len(p); j += 64 { // compressible, like real memory
			clear(p[j : j+48])
		}
		pages[i] = testPage{pfn: uint64(i), data: p}
	}
	for _, c := range []struct {
		name string
		flag uint32
	}{{"zlib", dumpZlib}, {"lzo", dumpLZO}, {"snappy", dumpSnappy}, {"zstd", dumpZstd}} {
		b.Run(c.name, func(b *testing.B) {
			d, err := Open(writeFile(b, "k", buildKdump(b, c.flag, 4096, n, pages, testVMCoreInfo, nil, 31)))
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			buf := make([]byte, 4096)
			rng := rand.New(rand.NewSource(1))
			b.SetBytes(4096)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := d.ReadPhys(buf, uint64(rng.Intn(n))*4096); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Corpus: random and sequential page reads over every dump of the corpus.
func BenchmarkCorpusPages(b *testing.B) {
	runs, err := corpus.Load(corpus.Root())
	if err != nil || len(runs) == 0 {
		b.Skip("no corpus")
	}
	for _, r := range runs {
		for _, f := range r.Files {
			if _, err := os.Stat(f.Path); err != nil {
				continue
			}
			d, err := OpenFiles(f.Paths()...)
			if err != nil {
				b.Fatal(err)
			}
			var kept []uint64
			buf := make([]byte, 4096)
			for _, rg := range d.Ranges() {
				for p := rg.Start; p < rg.End; p += 4096 {
					kept = append(kept, p)
				}
			}
			b.Run(r.Name+"/"+f.Name+"/random", func(b *testing.B) {
				rng := rand.New(rand.NewSource(1))
				b.SetBytes(4096)
				for i := 0; i < b.N; i++ {
					d.ReadPhys(buf, kept[rng.Intn(len(kept))])
				}
			})
			b.Run(r.Name+"/"+f.Name+"/sequential", func(b *testing.B) {
				b.SetBytes(4096)
				for i := 0; i < b.N; i++ {
					d.ReadPhys(buf, kept[i%len(kept)])
				}
			})
			d.Close()
		}
	}
}

// Open of the 1 GB 6.1 kdump's and the large run's (8 GiB) kdump-compressed
// and flattened files: the headers, the count of the kept pages, the last
// page descriptors; no bitmap or descriptor table read whole, so the time
// and B/op do not grow with the machine's memory.
func BenchmarkOpenKdump(b *testing.B) {
	var runs []*corpus.Run
	for _, r := range corpus.Runs(b) {
		if r.Arch == "x86_64" && r.Method == "kdump" && r.Crash == "sysrq" {
			runs = append(runs, r)
		}
	}
	runs = append(runs, corpus.LargeRun(b))
	for _, r := range runs {
		for _, f := range r.Files {
			if f.Format != "kdump" && f.Format != "flattened" || len(f.Parts) > 0 {
				continue
			}
			b.Run(r.Name+"/"+f.Name, func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					d, err := Open(f.Path)
					if err != nil {
						b.Fatal(err)
					}
					d.Close()
				}
			})
		}
	}
}

// A walk over 16 times the pages the cache holds, twice: each pass
// decodes every page, and with -benchmem the allocations stay those of the
// cache (an evicted page's buffer decodes the next).
func BenchmarkKdumpStream(b *testing.B) {
	const n = 1 << 14
	pages := make([]testPage, n)
	for i := range pages {
		p := patternPage(uint64(i), 4096)
		for j := 0; j < len(p); j += 64 {
			clear(p[j : j+48])
		}
		pages[i] = testPage{pfn: uint64(i), data: p}
	}
	d, err := Open(writeFile(b, "k", buildKdump(b, dumpZlib, 4096, n, pages, testVMCoreInfo, nil, 31)))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	buf := make([]byte, 4096)
	b.SetBytes(4096)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := d.ReadPhys(buf, uint64(i%n)*4096); err != nil {
			b.Fatal(err)
		}
	}
}
