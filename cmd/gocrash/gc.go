package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// Garbage collection for a short run. A batch start allocates a few MB it
// mostly keeps (the symbol table, the kernel model), and the collector's
// default pace (a cycle each time the heap doubles, from 4 MB) spends a
// quarter of such a start marking it and running with write barriers on.
// So collection starts slower (GOGC 400: the heap may grow to five times
// what is live), and returns to the default pace once the live heap passes
// gcSmallHeap, where a large dump's walks would let a slow pace cost
// memory. GOGC set in the environment is left alone.

const (
	gcStartPercent = 400
	gcSmallHeap    = 24 << 20
)

func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); set {
		return
	}
	debug.SetGCPercent(gcStartPercent)
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	// A sentinel object's finalizer runs after each cycle that finds it
	// unreachable: it checks the live heap and re-arms itself until the
	// heap is no longer small.
	var arm func()
	arm = func() {
		runtime.SetFinalizer(new([16]byte), func(*[16]byte) {
			metrics.Read(sample)
			if sample[0].Value.Kind() == metrics.KindUint64 && sample[0].Value.Uint64() > gcSmallHeap {
				debug.SetGCPercent(100)
				return
			}
			arm()
		})
	}
	arm()
}
