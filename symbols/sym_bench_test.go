package symbols

import (
	"os"
	"testing"
)

func BenchmarkOpenVmlinux(b *testing.B) {
	path := os.Getenv("GOCRASH_VMLINUX")
	if path == "" {
		b.Skip("GOCRASH_VMLINUX not set")
	}
	for i := 0; i < b.N; i++ {
		v, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		v.Close()
	}
}
