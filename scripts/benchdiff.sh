#!/usr/bin/env bash
# benchdiff.sh OLD NEW: two `go test -bench -benchmem` outputs (make bench
# writes bench.txt) side by side: each benchmark's ns/op, B/op and
# allocs/op as NEW/OLD ratios, and REGRESSION where one grew by more than
# THRESHOLD (default 1.15). Exit status 1 when any did.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 OLD NEW" >&2; exit 2; }
awk -v thr="${THRESHOLD:-1.15}" '
function field(unit,   i) { for (i = 3; i < NF; i++) if ($(i+1) == unit) return $i; return "" }
/^Benchmark/ {
	name = $1; sub(/-[0-9]+$/, "", name)
	ns = field("ns/op"); by = field("B/op"); al = field("allocs/op")
	if (FNR == NR) { ons[name] = ns; oby[name] = by; oal[name] = al; next }
	if (!(name in ons)) { printf "%-90s new\n", name; next }
	r1 = (ons[name] > 0) ? ns / ons[name] : 0
	r2 = (oby[name] > 0) ? by / oby[name] : 0
	r3 = (oal[name] > 0) ? al / oal[name] : 0
	flag = (r1 > thr || r2 > thr || r3 > thr) ? "REGRESSION" : ""
	if (flag != "") bad = 1
	printf "%-90s time %5.2fx  mem %5.2fx  allocs %5.2fx  %s\n", name, r1, r2, r3, flag
}
END { exit bad }' "$1" "$2"
