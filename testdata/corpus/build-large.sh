#!/usr/bin/env bash
# The corpus's large-machine run: Debian 12's x86_64 6.1 cloud kernel (the
# corpus's own) in an 8 GiB, 4-vCPU guest (QEMU TCG, multi-threaded:
# -accel tcg,thread=multi) running thousands of tasks: the static helper
# swarm/swarm.c forks LARGE_NPROC processes of LARGE_NTHREADS tasks each,
# with open files and mappings. Crashed with sysrq-c and captured by kdump:
# the capture kernel filters /proc/vmcore itself (makedumpfile -F -c -d 31
# onto its virtio disk), so the 8 GiB raw vmcore is never written; the host
# keeps that flattened file and makedumpfile -R's kdump-compressed one.
# The truth (init-large.sh) is init.sh's, ps with every thread (ps -T).
#
# It lives under ROOT/large/<name>/ (not dumps/: the per-run test loops of
# internal/corpus stay as fast as they were); corpus.LargeRun finds it.
#
# build.sh sources this file and calls large_main KDIR from its main. Run
# alone (bash testdata/corpus/build-large.sh, as root) it builds only this
# run, with build.sh's helpers and locking (the x86_64 6.1 kernel must be
# there: build.sh makes it).

LARGE_NPROC=1000
LARGE_NTHREADS=5
LARGE_MEM=8192
LARGE_CPUS=4
# Bump when this file, init-large.sh or swarm/ change what the run holds.
LARGE_RECIPE=2

# large_tools: swarm is built static against glibc (libc6-dev's libc.a).
large_tools() {
	[ -f "/usr/lib/$(gcc -dumpmachine)/libc.a" ] && return 0
	apt_update
	log "apt-get install libc6-dev"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libc6-dev \
		>"$SCRATCH/apt.log" 2>&1 || die "apt-get install failed: $(tail -3 "$SCRATCH/apt.log")"
}

large_ok() { run_ok "$1" && grep -q "\"large_recipe\":$LARGE_RECIPE," "$1/manifest.json" 2>/dev/null; }

# overlay OUT FILE:DEST...: appends to the gzipped cpio OUT a second one
# holding each FILE at DEST (the kernel unpacks concatenated archives in
# order, a later file replacing an earlier one: /init becomes
# init-large.sh); a dynamically linked FILE brings its libraries.
overlay() {
	local out=$1 d f dest lib
	shift
	d=$(mktemp -d "$SCRATCH/overlay.XXXXXX")
	for f in "$@"; do
		dest=${f#*:} f=${f%%:*}
		mkdir -p "$d$(dirname "$dest")"
		cp -L "$f" "$d$dest"
		chmod 755 "$d$dest"
		if ldd "$f" >/dev/null 2>&1; then
			for lib in $(ldd "$f" | grep -o '/[^ ]*'); do
				mkdir -p "$d$(dirname "$lib")"
				cp -L "$lib" "$d$lib"
			done
		fi
	done
	(cd "$d" && find . | cpio -o -H newc --quiet | gzip -1) >>"$out"
	rm -rf "$d"
}

# check_large_console FILE: the crashed kernel's console holds the swarm's
# tasks, the truth's sections and sysrq-c's panic; prints what is wrong.
check_large_console() {
	awk -v cpus="$LARGE_CPUS" -v want=$((LARGE_NPROC * LARGE_NTHREADS)) '
	/^\[ *[0-9]+\.[0-9]+\] / {
		text = $0; sub(/^\[ *[0-9]+\.[0-9]+\] /, "", text); sub(/\r$/, "", text)
		if (text ~ /^Linux version /) { if (++boots > 1) exit }
		if (text ~ /^@@GOCRASH ps: /) { ps++; if (text ~ / swarm[0-9]+(\.[0-9]+)?$/) swarm++ }
		if (text ~ /^@@GOCRASH nproc: /) { nproc = text; sub(/^@@GOCRASH nproc: /, "", nproc) }
		if (text ~ /^@@GOCRASH uname: /) uname++
		if (text ~ /^@@GOCRASH meminfo: MemTotal:/) meminfo = 1
		if (text ~ /^@@GOCRASH slabinfo: task_struct /) slabinfo = 1
		if (text == "@@GOCRASH-END ps@@") endps = 1
		if (text == "@@GOCRASH-BEGIN crash@@") crash = 1
		if (crash && text ~ /^Kernel panic - not syncing: sysrq triggered crash/) panic = 1
	}
	END {
		if (boots == 0) { print "no kernel boot"; exit }
		if (uname != 5) { print "uname section has " uname+0 " lines, want 5"; exit }
		if (nproc != cpus) { print "nproc says " nproc ", want " cpus; exit }
		if (!endps) { print "no end of the ps section"; exit }
		if (swarm != want) { print "ps shows " swarm+0 " swarm tasks, want " want; exit }
		if (!meminfo || !slabinfo) { print "no meminfo or slabinfo section"; exit }
		if (!panic) { print "no sysrq panic after the crash marker"; exit }
	}' "$1"
}

# run_large KDIR: ROOT/large/x86_64-<release>-<version>-kdump-large.
run_large() {
	local kdir=$1 rel ver name out tmp
	rel=$(cat "$kdir/release"); ver=$(cat "$kdir/version")
	name="x86_64-$rel-$ver-kdump-large"; out="$ROOT/large/$name"
	large_ok "$out" && { log "$name: present"; return 0; }
	large_tools
	tmp=$(mktemp -d "$SCRATCH/run.XXXXXX")
	log "$name: booting ${LARGE_MEM} MiB, $LARGE_CPUS CPUs, $((LARGE_NPROC * LARGE_NTHREADS)) swarm tasks"
	gcc -static -O2 -pthread -o "$tmp/swarm" "$HERE/swarm/swarm.c" || die "building swarm failed"
	local mdf
	mdf=$(command -v makedumpfile)
	initramfs "$tmp/capture.gz" /bin/busybox "$kdir" "${CAPTURE_MODULES[@]}"
	overlay "$tmp/capture.gz" "$HERE/init-large.sh:/init" "$mdf:/usr/sbin/makedumpfile"
	initramfs "$tmp/initrd.gz" /bin/busybox "$kdir" "${WORKLOAD_MODULES[@]}" --kdump "$tmp/capture.gz"
	overlay "$tmp/initrd.gz" "$HERE/init-large.sh:/init" "$tmp/swarm:/bin/swarm"
	truncate -s 4G "$tmp/disk.raw"
	local t0 pid
	t0=$(date +%s)
	# As run_kdump's guest, with more memory for the capture kernel
	# (makedumpfile runs in it) and room in the log for the truth; panic=10
	# ends a guest that panics without kdump (-no-reboot: QEMU exits).
	timeout 1500 qemu-system-x86_64 -accel tcg,thread=multi -cpu qemu64 -m "${LARGE_MEM}M" -smp "$LARGE_CPUS" \
		-display none -no-reboot -nic none -kernel "$kdir/vmlinuz" -initrd "$tmp/initrd.gz" \
		-append "console=ttyS0 crashkernel=384M panic=10 loglevel=8 log_buf_len=8M printk.time=1 printk.devkmsg=on no_timer_check gocrash=kdump gocrash_swarm=$LARGE_NPROC,$LARGE_NTHREADS" \
		-drive "file=$tmp/disk.raw,format=raw,if=virtio" -serial "file:$tmp/console.log" -monitor none \
		>"$tmp/qemu.log" 2>&1 &
	pid=$!
	PIDS=("$pid")
	wait "$pid" || fail "$name" "$tmp" "QEMU failed or timed out: $(tail -3 "$tmp/qemu.log")"
	PIDS=()
	TIMES+=("$(printf '%4ds  %s' $(($(date +%s) - t0)) "$name: QEMU boot, swarm, crash, capture")")
	! grep -aq "@@GOCRASH-KEXEC-FAILED@@" "$tmp/console.log" || fail "$name" "$tmp" "kexec -p failed in the guest"
	grep -aq "@@GOCRASH-VMCORE-COPIED@@" "$tmp/console.log" ||
		fail "$name" "$tmp" "the capture kernel did not filter /proc/vmcore $(grep -a 'GOCRASH-CAPTURE-FAILED' "$tmp/console.log" | tail -1)"
	local problem; problem=$(check_large_console "$tmp/console.log")
	[ -z "$problem" ] || fail "$name" "$tmp" "console.log: $problem"
	local size
	size=$(sed -n 's/.*@@GOCRASH-FLAT-SIZE \([0-9]*\)@@.*/\1/p' "$tmp/console.log" | head -1)
	[ -n "$size" ] || die "$name: the capture kernel did not say the flattened file's size"
	truncate -s "$size" "$tmp/disk.raw"
	mv "$tmp/disk.raw" "$tmp/vmcore.flat"
	makedumpfile -R "$tmp/vmcore.zlib" <"$tmp/vmcore.flat" >"$tmp/makedumpfile.log" 2>&1 ||
		die "$name: makedumpfile -R failed: $(tail -3 "$tmp/makedumpfile.log")"
	rm -f "$tmp/initrd.gz" "$tmp/capture.gz" "$tmp/qemu.log" "$tmp/makedumpfile.log" "$tmp/swarm"
	check_dumps "$tmp" vmcore.zlib kdump vmcore.flat flattened
	local how="makedumpfile $(makedumpfile -v 2>&1 | sed -n 's/^makedumpfile: version \([^ ]*\).*/\1/p') -F -c -d 31 in the capture kernel"
	manifest "$tmp" "$name" x86_64 "$rel" "$ver" kdump "$LARGE_CPUS" "$LARGE_MEM" "$kdir" true \
"{\"file\":\"vmcore.zlib\",\"format\":\"kdump\",\"filtered\":true,\"how\":\"$how, then makedumpfile -R\"},
  {\"file\":\"vmcore.flat\",\"format\":\"flattened\",\"filtered\":true,\"how\":\"$how\"}"
	sed -i "1s/^{\"recipe\":$RUN_RECIPE,/{\"recipe\":$RUN_RECIPE,\"large_recipe\":$LARGE_RECIPE,\"tasks\":$((LARGE_NPROC * LARGE_NTHREADS)),/" "$tmp/manifest.json"
	chmod 644 "$tmp"/*
	mkdir -p "$ROOT/large"
	replace "$out" "$tmp"
	log "$name: done ($(du -sh "$out" | cut -f1))"
}

# large_main KDIR: the large run on KDIR's kernel (the x86_64 6.1 one).
large_main() {
	timed "run x86_64 kdump large" run_large "$1"
}

if [ -z "${LARGE_SOURCED:-}" ] && [ "${BASH_SOURCE[0]}" = "$0" ]; then
	# Standalone: build.sh's functions without its main.
	LARGE_SOURCED=1
	GOCRASH_CORPUS_LIB=1
	# shellcheck source=build.sh
	source "$(cd "$(dirname "$0")" && pwd)/build.sh"
	setup_root
	# The corpus's x86_64 6.1 kernel (build.sh's first KERNELS entry).
	resolve_all
	kernel_ok "${KDIRS[0]}" || die "no x86_64 kernel at ${KDIRS[0]}: run build.sh"
	large_main "${KDIRS[0]}"
	log "step times:"
	printf '        %s\n' "${TIMES[@]}" >&2
	echo "$ROOT"
	exit 0
fi
