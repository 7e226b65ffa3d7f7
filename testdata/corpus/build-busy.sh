#!/usr/bin/env bash
# The corpus's busy runs: build.sh's kdump run (run_kdump, variant "busy")
# on Debian 11's x86_64 5.10 (where crash 8.0.2 works wholly) and Debian
# 12's 6.1, in a guest that also has
#   - a second virtio-blk disk (/dev/vdb: virtio_blk is a module, loaded by
#     /init) with an MBR partition table, an ext2 filesystem on vdb1 mounted
#     at /mnt, a writer on it and a direct-I/O reader of vdb2, so that
#     requests may be in flight at the crash (dev -d);
#   - sockets held by known processes (busy/sockets.c, static: TCP and TCP6
#     listening and established over loopback, UDP bound and connected, unix
#     stream listening/connected/socketpair and dgram; busybox httpd and
#     syslogd) (net -s, net -S, files);
#   - a virtio NIC on QEMU's user network (virtio_net), pinged at the slirp
#     gateway 10.0.2.2 and DNS 10.0.2.3: two ARP entries (net -a).
# init.sh's busy steps (gocrash_variant=busy) set it up and print the truth:
# /proc/net/{tcp,tcp6,udp,udp6,unix,arp}, ip neigh, /proc/diskstats,
# /sys/block/*/inflight, and the socket holders' /proc/PID/fd.
#
# The runs live under ROOT/busy/<name>/ (not dumps/: the tests written for
# the quiet guests keep their runs); corpus.BusyRuns finds them.
#
# build.sh sources this file and calls busy_main KDIR... from its main. Run
# alone (bash testdata/corpus/build-busy.sh, as root) it builds only these
# runs, with build.sh's helpers and locking (the kernels must be there).

# Bump when this file, init.sh's busy steps or busy/ change what a run holds.
BUSY_RECIPE=1
# The modules the busy guest adds to the workload's: the disk's and the NIC's
# (with their dependencies; kernels/ holds only the capture kernel's, so the
# rest come from the kernel's package in debs/).
BUSY_MODULES=(virtio_pci virtio_blk virtio_net)
BUSY_EXTRACT=(virtio_net net_failover failover)

# busy_kernel KDIR: prints a scratch copy of KDIR's module directory layout
# (links to its vmlinuz, vmlinux, release, version, modules.builtin; its
# modules plus BUSY_EXTRACT from the kernel's image package) for run_kdump.
busy_kernel() {
	local kdir=$1 rel ver d x f m pats=()
	rel=$(cat "$kdir/release"); ver=$(cat "$kdir/version")
	d="$SCRATCH/busy-kernel/$(basename "$kdir")"
	rm -rf "$d"
	mkdir -p "$d/modules"
	for f in vmlinuz vmlinux release version modules.builtin recipe; do ln -s "$kdir/$f" "$d/$f"; done
	cp "$kdir/modules/"*.ko "$d/modules/"
	fetch "linux-image-$rel-unsigned" amd64 "$ver" >&2
	x=$(mktemp -d "$SCRATCH/busy-x.XXXXXX")
	for m in "${BUSY_EXTRACT[@]}"; do pats+=("./*lib/modules/$rel/kernel/*/$m.ko*"); done
	dpkg-deb --fsys-tarfile "$DEB" | tar -x -C "$x" --wildcards "${pats[@]}" 2>/dev/null || true
	find "$x" -name '*.ko.xz' -exec xz -d {} +
	find "$x" -name '*.ko.zst' -exec zstd -q -d --rm {} +
	find "$x" -name '*.ko' -exec mv {} "$d/modules/" \;
	rm -rf "$x"
	mod_order "$d" "${BUSY_MODULES[@]}" >/dev/null
	echo "$d"
}

# check_busy_console FILE: the busy guest's truth is there (sockets ready,
# the filesystem mounted, an ARP entry for the gateway); prints what is
# wrong.
check_busy_console() {
	awk '
	/^\[ *[0-9]+\.[0-9]+\] / {
		text = $0; sub(/^\[ *[0-9]+\.[0-9]+\] /, "", text); sub(/\r$/, "", text)
		if (text ~ /^Linux version /) { if (++boots > 1) exit }
		if (text ~ /^@@GOCRASH busy-sockets: sockets: ready$/) ready = 1
		if (text ~ /^@@GOCRASH mountinfo: .* \/mnt .* \/dev\/vdb1 /) mounted = 1
		if (text ~ /^@@GOCRASH net-arp: 10\.0\.2\.2 /) arp = 1
		if (text ~ /^@@GOCRASH net-tcp: +[0-9]+: 00000000:1B59 00000000:0000 0A /) listen = 1
	}
	END {
		if (!ready) { print "the socket holder did not say it was ready"; exit }
		if (!mounted) { print "mountinfo shows no /dev/vdb1 on /mnt"; exit }
		if (!arp) { print "/proc/net/arp has no entry for 10.0.2.2"; exit }
		if (!listen) { print "/proc/net/tcp shows no listener on port 7001"; exit }
	}' "$1"
}

# run_busy KDIR: ROOT/busy/x86_64-<release>-<version>-kdump-busy.
run_busy() {
	local kdir=$1 shadow out tag="\"busy_recipe\":$BUSY_RECIPE"
	out="$ROOT/busy/x86_64-$(cat "$kdir/release")-$(cat "$kdir/version")-kdump-busy"
	# (run_kdump checks this too; here it saves building what it needs)
	if run_ok "$out" && grep -qF "$tag" "$out/manifest.json"; then
		log "$(basename "$out"): present"
		return 0
	fi
	large_tools # (libc.a for the static socket holder)
	shadow=$(busy_kernel "$kdir")
	gcc -static -O2 -o "$SCRATCH/busy-sockets" "$HERE/busy/sockets.c" || die "building busy/sockets.c failed"
	truncate -s 96M "$SCRATCH/busy-disk.raw"
	RUN_DIR=busy RUN_MODULES="${BUSY_MODULES[*]}" RUN_APPEND=gocrash_variant=busy \
		RUN_QEMU="-nic user,model=virtio-net-pci -drive file=$SCRATCH/busy-disk.raw,format=raw,if=virtio" \
		RUN_OVERLAY="$SCRATCH/busy-sockets:/bin/sockets" RUN_CHECK=check_busy_console \
		RUN_TAG=$tag run_kdump "$shadow" busy
	rm -rf "$SCRATCH/busy-disk.raw" "$SCRATCH/busy-sockets" "$shadow"
}

# busy_main KDIR...: a busy run on each kernel given (empty ones skipped).
busy_main() {
	local k
	declare -F overlay >/dev/null || source "$HERE/build-large.sh" # (run_kdump's RUN_OVERLAY)
	for k in "$@"; do
		[ -z "$k" ] || timed "run x86_64 $(cat "$k/release") kdump busy" run_busy "$k"
	done
}

if [ -z "${BUSY_SOURCED:-}" ] && [ "${BASH_SOURCE[0]}" = "$0" ]; then
	# Standalone: build.sh's functions without its main.
	BUSY_SOURCED=1
	GOCRASH_CORPUS_LIB=1
	# shellcheck source=build.sh
	source "$(cd "$(dirname "$0")" && pwd)/build.sh"
	setup_root
	resolve_all
	# build.sh's KERNELS: [0] the x86_64 6.1 kernel, [3] Debian 11's 5.10.
	for k in "${KDIRS[3]}" "${KDIRS[0]}"; do
		[ -z "$k" ] || kernel_ok "$k" || die "no x86_64 kernel at $k: run build.sh"
	done
	busy_main "${KDIRS[3]}" "${KDIRS[0]}"
	log "step times:"
	printf '        %s\n' "${TIMES[@]}" >&2
	echo "$ROOT"
	exit 0
fi
