package corpus

import (
	"path/filepath"
	"testing"
)

// BusyDir is where the corpus keeps its busy runs
// (testdata/corpus/build-busy.sh): kdump runs whose guest has a partitioned,
// mounted virtio-blk disk with I/O going on, sockets held by known processes
// and ARP entries. They are not under dumps/, so Runs, ForEachRun and
// ForEachFile leave them out; BusyRuns gives them to the tests written for
// them. Besides init.sh's sections, their Truth has "net-tcp", "net-tcp6",
// "net-udp", "net-udp6", "net-unix", "net-arp" (/proc/net/...), "neigh" (ip
// neigh), "diskstats" (/proc/diskstats), "inflight" ("NAME/inflight READS
// WRITES" of each /sys/block disk) and "busy-sockets" (the socket holder's
// output), and the socket holders (sockets, httpd, syslogd) are test tasks
// with fd-PID sections.
func BusyDir(root string) string { return filepath.Join(root, "busy") }

// BusySocketHolder is the command name of the busy guest's socket holder
// (testdata/corpus/busy/sockets.c).
const BusySocketHolder = "sockets"

// BusyRuns returns the busy runs, skipping the test when the corpus has
// none, or failing it when GOCRASH_CORPUS_REQUIRED=1.
func BusyRuns(t testing.TB) []*Run {
	t.Helper()
	return runsIn(t, BusyDir(Root()), "no busy corpus run under %s; build it with 'make corpus' (root, ~5 minutes)")
}

// ForEachBusyRun runs fn as a subtest for every busy run.
func ForEachBusyRun(t *testing.T, fn func(t *testing.T, r *Run)) {
	for _, r := range BusyRuns(t) {
		t.Run(r.Name, func(t *testing.T) { fn(t, r) })
	}
}
