module github.com/gocrash/gocrash

go 1.26.8

require (
	github.com/anchore/go-lzo v0.1.1
	github.com/cilium/ebpf v0.22.0
	github.com/ergochat/readline v0.1.3
	github.com/ianlancetaylor/demangle v0.0.0-20260724033716-83e58baca724
	github.com/klauspost/compress v1.20.3
	github.com/spf13/pflag v1.0.10
	github.com/ulikunitz/xz v0.5.17
	golang.org/x/arch v0.33.0
	golang.org/x/sys v0.49.0
	golang.org/x/term v0.47.0
)

require golang.org/x/text v0.9.0 // indirect
