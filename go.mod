module github.com/gocrash/gocrash

go 1.26.8

require (
	github.com/anchore/go-lzo v0.1.1
	github.com/klauspost/compress v1.20.3
	golang.org/x/sys v0.49.0
)
