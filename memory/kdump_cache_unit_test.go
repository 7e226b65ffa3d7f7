package memory

import "testing"

// The page cache is bounded in bytes: 4 MiB to 256 MiB of decoded pages,
// whatever the block size.
func TestPageCacheSizeBytes(t *testing.T) {
	for _, c := range []struct {
		kept, block uint64
		want        int
	}{
		{0, 4096, 1024},
		{8 * 5000, 4096, 5000},
		{1 << 40, 4096, 65536},
		{0, 65536, 64},
		{8 * 1000, 65536, 1000},
		{1 << 40, 65536, 4096},
		{1 << 40, 1 << 20, 256},
		{0, 1 << 20, 4},
	} {
		got := pageCacheSize(c.kept, c.block)
		if got != c.want {
			t.Errorf("pageCacheSize(%d, %d) = %d, want %d", c.kept, c.block, got, c.want)
		}
		if bytes := uint64(got) * c.block; bytes < 4<<20 || bytes > 256<<20 {
			t.Errorf("pageCacheSize(%d, %d) = %d pages = %d bytes, outside 4 MiB..256 MiB", c.kept, c.block, got, bytes)
		}
	}
}
