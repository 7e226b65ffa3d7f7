#!/usr/bin/env bash
# Whole-process timings: gocrash, drgn 0.0.22 and crash 8.0.2 (Debian
# packages) opening the same dump and answering the same question, each a
# fresh process. Prints ONE markdown table (the README's is copied from it):
# a row per command, each tool's best wall time of N runs (default 3), that
# run's CPU time (user+sys) and its largest peak RSS (/usr/bin/time -f
# '%e %U %S %M'), and the ratios gocrash/drgn and gocrash/crash (wall time ×
# / memory ×). gocrash has two columns: its first run on the vmlinux (an
# empty cache) and its warm run (the cache that first run wrote).
#
#   scripts/timing.sh [DUMP [VMLINUX]]  default: the corpus's Debian 12 x86_64
#                                       6.1 kdump (vmcore.zlib)
#   scripts/timing.sh --large           the corpus's large run (8 GiB, 4 CPUs,
#                                       5,000+ tasks: testdata/corpus/build-large.sh),
#                                       without the rows that read only the vmlinux
# Environment: N (runs per cell), CRASH_N (crash's runs per cell, default N:
# crash takes a minute to open the large run), TOOLS (default "gocrash drgn
# crash").
#
# drgn has no commands: each row runs a drgn script doing the equivalent walk
# (below). "fails" in a cell: the tool exited non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-3}
CRASH_N=${CRASH_N:-$N}
TOOLS=${TOOLS:-gocrash drgn crash}
CORPUS=${GOCRASH_CORPUS:-${XDG_CACHE_HOME:-$HOME/.cache}/gocrash/corpus}
LARGE=
if [ "${1:-}" = --large ]; then
	shift
	LARGE=1
	DUMP=$(ls "$CORPUS"/large/x86_64-6.1.*-kdump-large/vmcore.zlib 2>/dev/null | head -1 || true)
	[ -n "$DUMP" ] || { echo "no large run under $CORPUS/large: make corpus" >&2; exit 1; }
else
	DUMP=${1:-$(ls "$CORPUS"/dumps/x86_64-6.1.*-kdump/vmcore.zlib | head -1)}
fi
if [ -n "${2:-}" ]; then
	VMLINUX=$2
else
	# The manifest beside the dump names its vmlinux.
	VMLINUX=$(realpath -m "$(dirname "$DUMP")/$(sed -n 's/.*"vmlinux":"\([^"]*\)".*/\1/p' "$(dirname "$DUMP")/manifest.json")")
fi

need() { command -v "$1" >/dev/null || { echo "installing $2" >&2; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }; }
need /usr/bin/time time
need crash crash
/usr/bin/python3 -c 'import drgn' 2>/dev/null || need drgn python3-drgn
[ -x bin/gocrash ] || make build >/dev/null

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
COLD=$WORK/cold # an empty cache: gocrash's first run on this vmlinux

# The drgn scripts: the walk each command does, printed as it goes.
cat >"$WORK/d_eval.py" <<'EOF'
print(1)
EOF
cat >"$WORK/d_sys.py" <<'EOF'
from drgn.helpers.linux.pid import for_each_task
u = prog["init_uts_ns"].name
print(u.nodename.string_().decode(), u.release.string_().decode(), u.version.string_().decode(), u.machine.string_().decode())
print("TASKS:", sum(1 for _ in for_each_task(prog)))
print("PANIC:", prog["panic_cpu"].value_())
EOF
cat >"$WORK/d_ps.py" <<'EOF'
from drgn.helpers.linux.pid import for_each_task
from drgn.helpers.linux.sched import task_state_to_char
for t in for_each_task(prog):
    vsz = rss = 0
    if t.mm:
        vsz = t.mm.total_vm.value_() * 4
        try:
            rss = sum(c.counter.value_() for c in t.mm.rss_stat.count) * 4
        except AttributeError:  # 6.2+: an array of percpu_counters
            from drgn.helpers.linux.percpu import percpu_counter_sum
            rss = sum(percpu_counter_sum(c) for c in t.mm.rss_stat) * 4
    print(t.pid.value_(), t.real_parent.pid.value_(), t.cpu.value_() if hasattr(t, "cpu") else t.thread_info.cpu.value_(),
          hex(t.value_()), task_state_to_char(t), vsz, rss, t.comm.string_().decode())
EOF
cat >"$WORK/d_foreach_bt.py" <<'EOF'
from drgn.helpers.linux.pid import for_each_task
for t in for_each_task(prog):
    print("PID:", t.pid.value_(), "COMMAND:", t.comm.string_().decode())
    try:
        print(prog.stack_trace(t))
    except Exception as e:
        print("error:", e)
EOF
cat >"$WORK/d_kmem_s.py" <<'EOF'
from drgn.helpers.linux.slab import for_each_slab_cache
from drgn.helpers.linux.list import list_for_each_entry
from drgn.helpers.linux.nodemask import for_each_online_node
# kmem -s: each cache's objects, slabs and free objects on its nodes'
# partial lists (the counters and lists crash reads).
try:
    prog.type("struct slab")
    slabt = "struct slab"
except LookupError:
    slabt = "struct page"
for s in for_each_slab_cache(prog):
    total = slabs = free = 0
    for n in for_each_online_node(prog):
        node = s.node[n]
        if not node:
            continue
        total += node.total_objects.counter.value_()
        slabs += node.nr_slabs.counter.value_()
        for sl in list_for_each_entry(slabt, node.partial.address_of_(), "slab_list"):
            free += sl.objects.value_() - sl.inuse.value_()
    print(hex(s.value_()), s.object_size.value_(), total - free, total, slabs, s.name.string_().decode())
EOF
cat >"$WORK/d_kmem_i.py" <<'EOF'
from drgn.helpers.linux.percpu import percpu_counter_sum
# kmem -i: the page counters crash's table is made of.
zs, ns = prog["vm_zone_stat"], prog["vm_node_stat"]
print("TOTAL MEM", prog["_totalram_pages"].counter.value_())
for i in range(len(zs)):
    print("zone", i, zs[i].counter.value_())
for i in range(len(ns)):
    print("node", i, ns[i].counter.value_())
print("TOTAL HUGE", prog["default_hstate"].nr_huge_pages.value_() if "default_hstate" in prog else 0)
print("COMMITTED", percpu_counter_sum(prog["vm_committed_as"]))
print("SWAP", prog["total_swap_pages"].value_(), prog["nr_swap_pages"].counter.value_())
EOF
cat >"$WORK/d_search.py" <<'EOF'
import struct, sys
from drgn import FaultError
# search -k VALUE over kernel memory: every page of the direct map the dump
# holds (1 MiB reads, page by page where a read faults), 8-byte aligned.
want = struct.pack("<Q", int(sys.argv[1], 16))
base = prog["page_offset_base"].value_()
end = prog["max_pfn"].value_() << 12
hits = 0
def scan(addr, b):
    global hits
    i = b.find(want)
    while i >= 0:
        if i % 8 == 0:
            hits += 1
            print(hex(addr + i))
        i = b.find(want, i + 1)
chunk = 1 << 20
for pa in range(0, end, chunk):
    try:
        scan(base + pa, prog.read(base + pa, chunk))
    except FaultError:
        for p in range(pa, min(pa + chunk, end), 4096):
            try:
                scan(base + p, prog.read(base + p, 4096))
            except FaultError:
                pass
print(hits, "hits")
EOF
cat >"$WORK/d_log.py" <<'EOF'
from drgn.helpers.linux.printk import get_printk_records
for r in get_printk_records(prog):
    print("[%5d.%06d] %s" % (r.timestamp // 10**9, r.timestamp % 10**9 // 1000, r.text.decode(errors="replace")))
EOF
cat >"$WORK/d_struct.py" <<'EOF'
print(prog.type("struct task_struct"))
EOF
cat >"$WORK/d_whatis.py" <<'EOF'
# jiffies has only a declaration in the DWARF (the linker script defines it
# as jiffies_64), which drgn does not look up: its definition's type.
print(prog["jiffies_64"].type_, "jiffies")
EOF
# drgn through its Python API (its CLI, which in 0.0.22 has no -e, starts
# twice as slowly): the program, then SCRIPT ARGS... with prog in its globals.
cat >"$WORK/d_bt.py" <<'EOF'
# bt: the panic task's stack (the crashed thread), else CPU 0's current task.
try:
    t = prog.crashed_thread().object
except Exception:
    from drgn.helpers.linux.percpu import per_cpu
    t = per_cpu(prog["runqueues"], 0).curr
print("PID:", t.pid.value_(), "COMMAND:", t.comm.string_().decode())
print(prog.stack_trace(t.pid.value_()) if t.pid.value_() else prog.stack_trace(t))
EOF
cat >"$WORK/d_p.py" <<'EOF'
print("jiffies =", prog["jiffies_64"].value_())
EOF
cat >"$WORK/run_drgn.py" <<'EOF'
import drgn, runpy, sys
prog = drgn.Program()
prog.set_core_dump(sys.argv[2])
prog.load_debug_info([sys.argv[1]])
sys.argv = sys.argv[3:]
runpy.run_path(sys.argv[0], {"prog": prog}, "__main__")
EOF

# The value search -k looks for: one no page holds, so that every page is read.
SEARCH=feedfacecafef00d

# measure CMD...: runs CMD RUNS times (default N); sets T (best wall seconds),
# C (that run's CPU seconds, user+sys) and M (largest peak RSS, KiB), or
# T=fails.
measure() {
	local t u s m tf out
	tf=$WORK/time out=$WORK/out
	T=999999 C=0 M=0
	for _ in $(seq "${RUNS:-$N}"); do
		if ! /usr/bin/time -o "$tf" -f "%e %U %S %M" "$@" >"$out" 2>"$WORK/err"; then
			T=fails M=0
			echo "timing: failed: $* ($(tail -1 "$WORK/err"))" >&2
			return
		fi
		read -r t u s m < <(tail -1 "$tf")
		if awk -v a="$t" -v b="$T" 'BEGIN{exit !(a<b)}'; then
			T=$t C=$(awk -v u="$u" -v s="$s" 'BEGIN{print u+s}')
		fi
		[ "$m" -le "$M" ] || M=$m
	done
}

cell() { # TIME CPU RSS
	case $1 in
	fails | -) echo "$1" ;;
	*) printf '%.2f s (CPU %.2f) / %d MiB' "$1" "$2" $(($3 / 1024)) ;;
	esac
}
ratio() { # TIME1 RSS1 TIME2 RSS2
	case "$1$3" in *fails* | *-*) echo -; return ;; esac
	awk -v a="$1" -v b="$3" -v c="$2" -v d="$4" 'BEGIN{ if (b == 0) b = 0.005; printf "%.2g× / %.2g×", a / b, c / d }'
}

gocrash() { echo "$1" | bin/gocrash -s "$VMLINUX" "$DUMP"; }
crashcmd() { printf '%s\nquit\n' "$1" >"$WORK/crash.in"; crash -s "$VMLINUX" "$DUMP" <"$WORK/crash.in"; }
drgnrun() { /usr/bin/python3 "$WORK/run_drgn.py" "$VMLINUX" "$DUMP" "$WORK/$1" "${@:2}"; }
export -f gocrash crashcmd drgnrun
export VMLINUX DUMP WORK COLD

# row LABEL GOCRASH-COMMAND DRGN-SCRIPT: one table row: gocrash's first run
# (an empty cache, emptied before each run), its warm run (the cache that
# first run wrote), drgn's and crash's.
row() {
	local label=$1 cmd=$2 script=$3 kt=- kc=0 km=0 gt=- gc=0 gm=0 dt=- dc=0 dm=0 ct=- cc=0 cm=0
	if [[ " $TOOLS " = *" gocrash "* ]]; then
		measure sh -c "rm -rf '$COLD'; mkdir -p '$COLD'; echo '$cmd' | XDG_CACHE_HOME='$COLD' bin/gocrash -s '$VMLINUX' '$DUMP'"
		kt=$T kc=$C km=$M
		measure sh -c "echo '$cmd' | XDG_CACHE_HOME='$COLD' bin/gocrash -s '$VMLINUX' '$DUMP'"
		gt=$T gc=$C gm=$M
	fi
	if [[ " $TOOLS " = *" drgn "* ]]; then
		# shellcheck disable=SC2086 # the script and its arguments
		measure bash -c 'drgnrun "$@"' - $script
		dt=$T dc=$C dm=$M
	fi
	if [[ " $TOOLS " = *" crash "* ]]; then
		RUNS=$CRASH_N measure bash -c 'crashcmd "$1"' - "$cmd"
		ct=$T cc=$C cm=$M
	fi
	printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$(cell "$kt" "$kc" "$km")" "$(cell "$gt" "$gc" "$gm")" \
		"$(cell "$dt" "$dc" "$dm")" "$(cell "$ct" "$cc" "$cm")" \
		"$(ratio "$kt" "$km" "$dt" "$dm")" "$(ratio "$gt" "$gm" "$dt" "$dm")" "$(ratio "$gt" "$gm" "$ct" "$cm")"
}

echo "dump: $DUMP ($(du -h "$DUMP" | cut -f1)), vmlinux: $VMLINUX; $(nproc) CPUs (load average $(cut -d' ' -f1 /proc/loadavg) at the start), best of $N (crash: $CRASH_N), whole process; each cell wall (CPU user+sys) / peak RSS; ratios time× / memory×"
echo
echo '| command | gocrash first run | gocrash warm | drgn 0.0.22 | crash 8.0.2 | first/drgn | warm/drgn | warm/crash |'
echo '|---|---|---|---|---|---|---|---|'
row 'open (`eval 1`: no dump walk)' 'eval 1' d_eval.py
row '`sys` (counts the tasks)' sys d_sys.py
row '`ps`' ps d_ps.py
row '`bt` (the panic task)' bt d_bt.py
row '`foreach bt`' 'foreach bt' d_foreach_bt.py
row '`kmem -s`' 'kmem -s' d_kmem_s.py
row '`kmem -i`' 'kmem -i' d_kmem_i.py
row "\`search -k\` (a value no page holds)" "search -k $SEARCH" "d_search.py $SEARCH"
row '`log`' log d_log.py
# The type rows read the vmlinux, not the dump: the large run leaves them out.
[ -n "$LARGE" ] && exit 0
row '`struct task_struct`' 'struct task_struct' d_struct.py
row '`whatis jiffies`' 'whatis jiffies' d_whatis.py
row '`p jiffies`' 'p jiffies' d_p.py
