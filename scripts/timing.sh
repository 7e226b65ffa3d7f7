#!/usr/bin/env bash
# Whole-process timings: gocrash, crash 8.0.2 and drgn 0.0.22 (Debian
# packages) opening the same dump and answering the same question. Prints
# wall time and peak RSS of each, best of N runs (default 3).
#
#   scripts/timing.sh [DUMP VMLINUX]     default: the corpus x86_64 kdump -c file
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-3}
CORPUS=${GOCRASH_CORPUS:-${XDG_CACHE_HOME:-$HOME/.cache}/gocrash/corpus}
# The references in DEVELOPERS.md are for Debian 12's 6.1 kernel.
DUMP=${1:-$(ls "$CORPUS"/dumps/x86_64-6.1.*-kdump/vmcore.zlib | head -1)}
RUNDIR=$(basename "$(dirname "$DUMP")")
VMLINUX=${2:-$CORPUS/kernels/${RUNDIR%-*}/vmlinux}

need() { command -v "$1" >/dev/null || { echo "installing $2" >&2; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }; }
need /usr/bin/time time
need crash crash
/usr/bin/python3 -c 'import drgn' 2>/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-drgn >/dev/null; }
[ -x bin/gocrash ] || make build >/dev/null

# best TOOL CMD...: runs CMD N times, prints the fastest wall time and the
# largest peak RSS.
best() {
	local name=$1; shift
	local t m bt=999999 bm=0 tf
	tf=$(mktemp)
	for _ in $(seq "$N"); do
		/usr/bin/time -o "$tf" -f '%e %M' "$@" >/dev/null 2>&1 || true
		read -r t m < <(tail -1 "$tf")
		bt=$(awk -v a="$t" -v b="$bt" 'BEGIN{print (a<b)?a:b}')
		[ "$m" -gt "$bm" ] && bm=$m
	done
	rm -f "$tf"
	printf '%-28s %6.2f s %6d MiB\n' "$name" "$bt" $((bm / 1024))
}

echo "dump:    $DUMP"
echo "vmlinux: $VMLINUX"
printf '%-28s %8s %10s\n' tool wall peak-RSS
best "gocrash sys"      sh -c "echo sys | bin/gocrash -s '$VMLINUX' '$DUMP'"
best "crash 8.0.2 sys"  sh -c "echo sys | crash -s '$VMLINUX' '$DUMP'"
best "drgn 0.0.22 uts"  /usr/bin/python3 -c "
import drgn, sys
p = drgn.Program()
p.set_core_dump(sys.argv[2])
p.load_debug_info([sys.argv[1]])
print(p['init_uts_ns'].name.release.string_().decode())
" "$VMLINUX" "$DUMP"
best "gocrash ps"       sh -c "echo ps | bin/gocrash -s '$VMLINUX' '$DUMP'"
best "crash 8.0.2 ps"   sh -c "echo ps | crash -s '$VMLINUX' '$DUMP'"
best "drgn 0.0.22 tasks" /usr/bin/python3 -c "
import drgn, sys
from drgn.helpers.linux.pid import for_each_task
p = drgn.Program()
p.set_core_dump(sys.argv[2])
p.load_debug_info([sys.argv[1]])
for t in for_each_task(p):
    print(t.pid.value_(), t.comm.string_().decode())
" "$VMLINUX" "$DUMP"
COLD=$(mktemp -d)
best "gocrash struct (cold)"    sh -c "rm -rf '$COLD'/*; echo 'struct task_struct' | XDG_CACHE_HOME='$COLD' bin/gocrash -s '$VMLINUX' '$DUMP'"
best "gocrash whatis (cold)"    sh -c "rm -rf '$COLD'/*; echo 'whatis jiffies' | XDG_CACHE_HOME='$COLD' bin/gocrash -s '$VMLINUX' '$DUMP'"
echo 'whatis jiffies' | bin/gocrash -s "$VMLINUX" "$DUMP" >/dev/null # builds the cached index
best "gocrash struct (cached)"  sh -c "echo 'struct task_struct' | bin/gocrash -s '$VMLINUX' '$DUMP'"
best "gocrash whatis (cached)"  sh -c "echo 'whatis jiffies' | bin/gocrash -s '$VMLINUX' '$DUMP'"
best "crash 8.0.2 struct"       sh -c "echo 'struct task_struct' | crash -s '$VMLINUX' '$DUMP'"
best "drgn 0.0.22 type"         /usr/bin/python3 -c "
import drgn, sys
p = drgn.Program()
p.set_core_dump(sys.argv[2])
p.load_debug_info([sys.argv[1]])
print(p.type('struct task_struct'))
" "$VMLINUX" "$DUMP"
best "gocrash foreach bt"       sh -c "echo 'foreach bt' | bin/gocrash -s '$VMLINUX' '$DUMP'"
best "gocrash --json ps"        sh -c "echo ps | bin/gocrash --json '$VMLINUX' '$DUMP'"
best "gocrash --json foreach bt" sh -c "echo 'foreach bt' | bin/gocrash --json '$VMLINUX' '$DUMP'"
best "gocrash log"              sh -c "echo log | bin/gocrash -s '$VMLINUX' '$DUMP'"
rm -rf "$COLD"
