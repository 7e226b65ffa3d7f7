package commands

import (
	"strings"
	"testing"
)

func TestPagesToSize(t *testing.T) {
	for _, c := range []struct {
		pages uint64
		want  string
	}{{0, "0"}, {1, "4 KB"}, {255, "1020 KB"}, {256, "1 MB"}, {180272, "704.2 MB"}, {178948, "699 MB"}, {1 << 18, "1 GB"}, {393216, "1.5 GB"}} {
		if got := pagesToSize(c.pages, 4096); got != c.want {
			t.Errorf("pagesToSize(%d) = %q, want %q", c.pages, got, c.want)
		}
	}
}

// TestKmemInfoText: crash's columns and percentages, integer division,
// no percentage against a zero total, and COMMITTED without a limit.
func TestKmemInfoText(t *testing.T) {
	r := &KmemInfo{PageSize: 4096, TotalMem: 180272, Free: 170720, Used: 9552, Shared: 431, Cached: 4412, Slab: 3259,
		HasHuge: true, HasSwap: true, HasCommit: true, CommitLimit: 90136, Committed: 5084}
	var b strings.Builder
	if err := r.Text(&b); err != nil {
		t.Fatal(err)
	}
	want := `                 PAGES        TOTAL      PERCENTAGE
    TOTAL MEM   180272     704.2 MB         ----
         FREE   170720     666.9 MB   94% of TOTAL MEM
         USED     9552      37.3 MB    5% of TOTAL MEM
       SHARED      431       1.7 MB    0% of TOTAL MEM
      BUFFERS        0            0    0% of TOTAL MEM
       CACHED     4412      17.2 MB    2% of TOTAL MEM
         SLAB     3259      12.7 MB    1% of TOTAL MEM

   TOTAL HUGE        0            0         ----
    HUGE FREE        0            0    0% of TOTAL HUGE

   TOTAL SWAP        0            0         ----
    SWAP USED        0            0    0% of TOTAL SWAP
    SWAP FREE        0            0    0% of TOTAL SWAP

 COMMIT LIMIT    90136     352.1 MB         ----
    COMMITTED     5084      19.9 MB    5% of TOTAL LIMIT
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	r.CommitLimit = 0
	b.Reset()
	r.Text(&b)
	if !strings.HasSuffix(b.String(), "    COMMITTED     5084      19.9 MB         ----\n") {
		t.Errorf("no limit:\n%s", b.String())
	}
}

// TestKmemPageFlagsText: the table's widths come from the longest
// enumerator and the largest bit; a value lists its set flags or says
// none.
func TestKmemPageFlagsText(t *testing.T) {
	r := &KmemPageFlags{Flags: []KmemPageFlag{{"PG_locked", 0}, {"PG_head", 16}, {"PG_arch_2", 23}}, longest: 14, Values: []Hex{0x10001, 0x2}}
	var b strings.Builder
	r.Text(&b)
	want := "FLAGS: 10001\n  PAGE-FLAG      BIT  VALUE\n  PG_locked        0  0000001\n  PG_head         16  0010000\n" +
		"\nFLAGS: 2\n  PAGE-FLAG      BIT  VALUE\n  (none found)\n"
	if b.String() != want {
		t.Errorf("got:\n%q\nwant:\n%q", b.String(), want)
	}
}

// TestKmemFreeAreasText: an empty zone has no area table; the sum line
// says whether the lists hold the zones' free pages.
func TestKmemFreeAreasText(t *testing.T) {
	r := &KmemFreeAreas{Nodes: 1, pageSize: 4096, NrFreePages: 3, Found: 2, Zones: []KmemFreeZone{
		{Zone: 0, Name: "DMA", Size: 4095, Free: 3, MemMap: 0xfffffa0780000040, StartPaddr: 0x1000,
			Lists: []KmemFreeList{{Order: 0, Head: 0xffff9de2fe1170c0}, {Order: 1, Head: 0xffff9de2fe117118, Blocks: 1, Pages: 2}}},
		{Zone: 1, Name: "Normal"}}}
	var b strings.Builder
	r.Text(&b)
	want := `ZONE  NAME        SIZE    FREE      MEM_MAP       START_PADDR  START_MAPNR
  0   DMA         4095       3  fffffa0780000040      1000          0     
AREA    SIZE  FREE_AREA_STRUCT  BLOCKS  PAGES
  0       4k  ffff9de2fe1170c0       0      0
  1       8k  ffff9de2fe117118       1      2

ZONE  NAME        SIZE    FREE      MEM_MAP       START_PADDR  START_MAPNR
  1   Normal         0       0         0               0            0     

nr_free_pages: 3  (found 2)
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}
