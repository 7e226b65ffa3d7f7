#!/usr/bin/env bash
# The corpus's ppc64le and s390x runs: Debian's own 6.1 kernels for ppc64el
# and s390x (foreign-architecture packages, unpacked with dpkg-deb -x, never
# installed) booted under QEMU TCG with the same /init (init.sh) and ground
# truth as the other guests, crashed with sysrq-c and dumped with QEMU's
# dump-guest-memory (ELF and -z); and a real kdump on ppc64le (kexec -p
# with the guest's own kexec-tools works under pseries TCG).
#   ppc64le: -machine pseries -cpu power9 (the radix MMU), console hvc0. The
#            pseries machine has no fw_cfg, so its dumps have no VMCOREINFO.
#   s390x:   -machine s390-ccw-virtio, console ttysclp0 (an sclpconsole).
# Both kernels end a panic with a firmware call that QEMU takes as the
# guest's end (pseries' ibm,os-term, s390's disabled-wait PSW):
# -action panic=pause keeps the guest for the dump.
#
# build.sh sources this file and calls ppc_s390_main from its main. Run
# alone (bash testdata/corpus/build-ppc-s390.sh, as root) it builds only
# these runs, with build.sh's helpers and locking.

# The foreign kernels: DEBARCH FLAVOUR (the metapackage is
# linux-image-FLAVOUR; their images are not signed, so there is no
# -unsigned package).
FOREIGN_KERNELS=("ppc64el powerpc64le" "s390x s390x")
# The modules these guests load: no qemu_fw_cfg (neither machine has fw_cfg).
FOREIGN_MODULES=(dummy loop)

foreign_arch() { case $1 in ppc64el) echo ppc64le ;; s390x) echo s390x ;; *) die "unknown arch $1" ;; esac; }

# foreign_tools: the foreign architectures and the QEMU system emulators.
foreign_tools() {
	local a missing=()
	for a in ppc64el s390x; do
		if ! dpkg --print-foreign-architectures | grep -qx "$a"; then
			log "dpkg --add-architecture $a"
			dpkg --add-architecture "$a"
			APT_UPDATED=
			apt_update
		fi
	done
	command -v qemu-system-ppc64 >/dev/null || missing+=(qemu-system-ppc)
	command -v qemu-system-s390x >/dev/null || missing+=(qemu-system-misc)
	if [ ${#missing[@]} -gt 0 ]; then
		apt_update
		log "apt-get install ${missing[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
			>"$SCRATCH/apt.log" 2>&1 || die "apt-get install failed: $(tail -3 "$SCRATCH/apt.log")"
	fi
}

# foreign_resolve DEBARCH FLAVOUR: sets REL and VER of the kernel
# linux-image-FLAVOUR names (a copy in debs/ will do when apt cannot say).
foreign_resolve() {
	local debarch=$1 flavour=$2 img f
	REL= VER=
	img=$(apt-cache depends "linux-image-$flavour:$debarch" 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[^ :]*\).*/\1/p' | head -1 || true)
	if [ -n "$img" ]; then
		REL=${img#linux-image-}
		VER=$(apt-cache policy "$img:$debarch" 2>/dev/null | sed -n 's/^ *Candidate: //p' | head -1 || true)
		[ "$VER" != "(none)" ] || VER=
	fi
	if [ -z "$VER" ]; then
		f=$(ls "$ROOT/debs/linux-image-"*"-${flavour}_"*"_$debarch.deb" 2>/dev/null | sort -V | tail -1 || true)
		[ -n "$f" ] || return 1
		REL=$(dpkg-deb -f "$f" Package); REL=${REL#linux-image-}
		VER=$(dpkg-deb -f "$f" Version)
	fi
}

# foreign_kernel DEBARCH REL VER: kernels/<arch>-REL-VER/ as extract_kernel
# makes it (vmlinuz is the boot image: an ELF vmlinux on ppc64, the
# compressed image on s390x), from linux-image-REL and linux-image-REL-dbg.
foreign_kernel() {
	local debarch=$1 rel=$2 ver=$3 dir tmp img dbg m boot
	dir="$ROOT/kernels/$(foreign_arch "$debarch")-$rel-$ver"
	KDIR=$dir
	kernel_ok "$dir" && return 0
	fetch "linux-image-$rel" "$debarch" "$ver"; img=$DEB
	fetch "linux-image-$rel-dbg" "$debarch" "$ver"; dbg=$DEB
	log "extracting $rel ($ver)"
	tmp=$(mktemp -d "$SCRATCH/kernel.XXXXXX")
	mkdir -p "$tmp/x" "$tmp/modules"
	local pats=("./boot/vmlinu[xz]-$rel" "./*lib/modules/$rel/modules.builtin")
	for m in "${FOREIGN_MODULES[@]}" "${CAPTURE_MODULES[@]}" "${CAPTURE_DEPS[@]}"; do pats+=("./*lib/modules/$rel/kernel/*/$m.ko*"); done
	dpkg-deb --fsys-tarfile "$img" | tar -x -C "$tmp/x" --wildcards "${pats[@]}" 2>"$tmp/tar.err" || true
	boot=$(ls "$tmp/x/boot/"vmlinu[xz]-"$rel" 2>/dev/null | head -1 || true)
	[ -n "$boot" ] || die "no boot image in $img: $(head -3 "$tmp/tar.err")"
	mv "$boot" "$tmp/vmlinuz"
	find "$tmp/x" -name modules.builtin -exec mv {} "$tmp/modules.builtin" \;
	find "$tmp/x" -name '*.ko' -exec mv {} "$tmp/modules/" \;
	{ dpkg-deb --fsys-tarfile "$dbg" 2>/dev/null || true; } |
		tar -x -C "$tmp/x" --occurrence=1 "./usr/lib/debug/boot/vmlinux-$rel" "./usr/lib/debug/boot/System.map-$rel"
	mv "$tmp/x/usr/lib/debug/boot/vmlinux-$rel" "$tmp/vmlinux"
	mv "$tmp/x/usr/lib/debug/boot/System.map-$rel" "$tmp/System.map"
	[ "$(head -c 4 "$tmp/vmlinux" | od -An -c | tr -d ' ')" = '177ELF' ] || die "$dbg: vmlinux is not an ELF file"
	rm -rf "$tmp/x" "$tmp/tar.err"
	mod_order "$tmp" "${FOREIGN_MODULES[@]}" "${CAPTURE_MODULES[@]}" >/dev/null
	echo "$rel" >"$tmp/release"
	echo "$ver" >"$tmp/version"
	echo "$KERNEL_RECIPE" >"$tmp/recipe"
	replace "$dir" "$tmp"
}

# foreign_busybox DEBARCH: kernels/busybox-<arch>, from busybox-static:DEBARCH.
foreign_busybox() {
	local debarch=$1 arch out ver
	arch=$(foreign_arch "$debarch")
	out="$ROOT/kernels/busybox-$arch"
	BUSYBOX=$out
	[ -x "$out" ] && return 0
	DEB=$(ls "$ROOT/debs/busybox-static_"*"_$debarch.deb" 2>/dev/null | head -1 || true)
	if [ -z "$DEB" ]; then
		ver=$(apt-cache policy "busybox-static:$debarch" | sed -n 's/^ *Candidate: //p' | head -1)
		[ -n "$ver" ] && [ "$ver" != "(none)" ] || die "apt knows no busybox-static:$debarch"
		fetch busybox-static "$debarch" "$ver"
	fi
	dpkg-deb --fsys-tarfile "$DEB" | tar -x -O ./bin/busybox >"$SCRATCH/busybox-$arch"
	chmod 755 "$SCRATCH/busybox-$arch"
	mv "$SCRATCH/busybox-$arch" "$out"
}

# wait_panicked SOCKET TRANSCRIPT SECONDS: waits until QEMU's status is
# "paused (guest-panicked)".
wait_panicked() {
	local n=0
	while [ $n -lt "$3" ]; do
		: >"$2"
		hmp "$1" "$2" "info status" || true
		grep -q 'guest-panicked' "$2" && return 0
		sleep 1
		n=$((n + 1))
	done
	return 1
}

# run_foreign ARCH KDIR BUSYBOX: a QEMU-dumped run, as run_qemu makes them.
run_foreign() {
	local arch=$1 kdir=$2 busybox=$3 rel ver name out tmp qemu console
	# check_console and initramfs read the workload's modules from here.
	local WORKLOAD_MODULES=("${FOREIGN_MODULES[@]}")
	rel=$(cat "$kdir/release"); ver=$(cat "$kdir/version")
	name="$arch-$rel-$ver-qemu"; out="$ROOT/dumps/$name"
	run_ok "$out" && { log "$name: present"; return 0; }
	tmp=$(mktemp -d "$SCRATCH/run.XXXXXX")
	log "$name: booting (crash, then QEMU dumps)"
	initramfs "$tmp/initrd.gz" "$busybox" "$kdir" "${WORKLOAD_MODULES[@]}"
	case $arch in
	ppc64le)
		# The cap-* settings TCG cannot emulate are turned off rather
		# than warned about.
		qemu=(qemu-system-ppc64 -machine pseries,cap-cfpc=broken,cap-sbbc=broken,cap-ibs=broken,cap-ccf-assist=off
			-cpu power9 -serial "file:$tmp/console.log")
		console=hvc0 ;;
	s390x)
		qemu=(qemu-system-s390x -machine s390-ccw-virtio -cpu qemu -serial none
			-chardev "file,id=con,path=$tmp/console.log" -device sclpconsole,chardev=con)
		console=ttysclp0 ;;
	esac
	local sock
	MONDIR=$(mktemp -d /tmp/gocrash-mon.XXXXXX)
	sock="$MONDIR/mon.sock"
	local t0=$(date +%s)
	"${qemu[@]}" -m 512M -smp 2 -display none -no-reboot -nic none -action panic=pause \
		-kernel "$kdir/vmlinuz" -initrd "$tmp/initrd.gz" \
		-append "console=$console loglevel=8 log_buf_len=4M printk.time=1 printk.devkmsg=on panic=0 gocrash=qemu" \
		-monitor "unix:$sock,server,nowait" >"$tmp/qemu.log" 2>&1 &
	local pid=$!
	PIDS=("$pid")
	wait_console "$tmp/console.log" "Kernel panic - not syncing" 300 $pid ||
		{ fail "$name" "$tmp" "the guest did not panic: $(tail -3 "$tmp/qemu.log")"; }
	# The panic ends in the firmware call before "---[ end Kernel panic":
	# QEMU then says the guest panicked.
	wait_panicked "$sock" "$tmp/status.log" 60 || fail "$name" "$tmp" "QEMU never saw the guest panic: $(tail -3 "$tmp/status.log")"
	TIMES+=("$(printf '%4ds  %s' $(($(date +%s) - t0)) "$name: QEMU boot to panic")")
	local mon="$tmp/monitor.log" files
	hmp "$sock" "$mon" stop || die "$name: QEMU monitor: $(tail -3 "$mon")"
	timed "$name: dump-guest-memory (ELF)" hmp "$sock" "$mon" "dump-guest-memory $tmp/vmcore.elf" ||
		die "$name: dump-guest-memory failed: $(grep -a rror "$mon" | tail -1)"
	files=(vmcore.elf elf)
	local json='{"file":"vmcore.elf","format":"elf","filtered":false,"how":"QEMU dump-guest-memory"}'
	timed "$name: dump-guest-memory -z" hmp "$sock" "$mon" "dump-guest-memory -z $tmp/vmcore.kdump-zlib" ||
		die "$name: dump-guest-memory -z failed: $(grep -a rror "$mon" | tail -1)"
	local fmt; fmt=$(magic "$tmp/vmcore.kdump-zlib")
	files+=(vmcore.kdump-zlib "$fmt")
	json+=",
  {\"file\":\"vmcore.kdump-zlib\",\"format\":\"$fmt\",\"filtered\":true,\"how\":\"QEMU dump-guest-memory -z ($fmt kdump-compressed, zlib, dump level 1)\"}"
	echo quit | socat - "UNIX-CONNECT:$sock" >/dev/null 2>&1 || true
	local n=0
	while kill -0 "$pid" 2>/dev/null && [ $n -lt 50 ]; do sleep 0.2; n=$((n + 1)); done
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	PIDS=()
	rm -rf "$MONDIR"
	MONDIR=
	# The sclp console ends lines with CR LF.
	sed -i 's/\r$//' "$tmp/console.log"
	local problem; problem=$(check_console "$tmp/console.log" 2)
	[ -z "$problem" ] || fail "$name" "$tmp" "console.log: $problem"
	check_dumps "$tmp" "${files[@]}"
	rm -f "$tmp/initrd.gz" "$tmp/qemu.log" "$tmp/status.log" "$mon"
	manifest "$tmp" "$name" "$arch" "$rel" "$ver" qemu 2 512 "$kdir" false "$json"
	chmod 644 "$tmp"/*
	replace "$out" "$tmp"
	log "$name: done ($(du -sh "$out" | cut -f1))"
}

# foreign_kexec DEBARCH: SCRATCH/kexec-DEBARCH/, the root of kexec-tools
# and the libraries it loads (libc, zlib, liblzma), unpacked from DEBARCH's
# packages; sets KEXEC_ROOT.
foreign_kexec() {
	local debarch=$1 p ver
	KEXEC_ROOT="$SCRATCH/kexec-$debarch"
	[ -x "$KEXEC_ROOT/sbin/kexec" ] && return 0
	mkdir -p "$KEXEC_ROOT"
	for p in kexec-tools libc6 zlib1g liblzma5; do
		DEB=$(ls "$ROOT/debs/${p}_"*"_$debarch.deb" 2>/dev/null | head -1 || true)
		if [ -z "$DEB" ]; then
			ver=$(apt-cache policy "$p:$debarch" | sed -n 's/^ *Candidate: //p' | head -1)
			[ -n "$ver" ] && [ "$ver" != "(none)" ] || die "apt knows no $p:$debarch"
			fetch "$p" "$debarch" "$ver"
		fi
		dpkg-deb -x "$DEB" "$KEXEC_ROOT"
	done
	[ -x "$KEXEC_ROOT/sbin/kexec" ] || die "kexec-tools:$debarch has no sbin/kexec"
}

# run_foreign_kdump ARCH DEBARCH KDIR BUSYBOX: a real kdump on ppc64le:
# init.sh's kdump mode loads the capture kernel (kexec -p, the guest's own
# kexec-tools), the sysrq-c panic boots it, and it copies /proc/vmcore to
# the virtio disk. (Its console is ttyS0, which pseries has not: the
# host cuts the ELF at its own end, max(p_offset + p_filesz).) makedumpfile
# here reads only the host's architecture: the ELF is the only file.
run_foreign_kdump() {
	local arch=$1 debarch=$2 kdir=$3 busybox=$4 rel ver name out tmp
	local WORKLOAD_MODULES=("${FOREIGN_MODULES[@]}")
	rel=$(cat "$kdir/release"); ver=$(cat "$kdir/version")
	name="$arch-$rel-$ver-kdump"; out="$ROOT/dumps/$name"
	run_ok "$out" && { log "$name: present"; return 0; }
	foreign_kexec "$debarch"
	tmp=$(mktemp -d "$SCRATCH/run.XXXXXX")
	log "$name: booting (crash, then the capture kernel copies /proc/vmcore)"
	initramfs "$tmp/capture.gz" "$busybox" "$kdir" "${CAPTURE_MODULES[@]}"
	initramfs "$tmp/base.gz" "$busybox" "$kdir" "${WORKLOAD_MODULES[@]}"
	# A second cpio archive, appended (the kernel unpacks both): the
	# kernels and the foreign kexec with its loader and libraries.
	local x="$tmp/extra" lib
	mkdir -p "$x/boot" "$x/usr/sbin" "$x/bin" "$x/lib64"
	cp "$kdir/vmlinuz" "$x/boot/vmlinuz"
	cp "$tmp/capture.gz" "$x/boot/capture.gz"
	cp "$KEXEC_ROOT/sbin/kexec" "$x/usr/sbin/kexec"
	ln -s ../usr/sbin/kexec "$x/bin/kexec"
	cp -a "$KEXEC_ROOT/lib" "$x/"
	for lib in "$KEXEC_ROOT"/lib/*/ld64.so.*; do cp "$lib" "$x/lib64/"; done
	(cd "$x" && find . | cpio -o -H newc --quiet | gzip -1) >"$tmp/extra.gz"
	cat "$tmp/base.gz" "$tmp/extra.gz" >"$tmp/initrd.gz"
	rm -rf "$x" "$tmp/base.gz" "$tmp/extra.gz"
	truncate -s 1200M "$tmp/disk.raw"
	local t0=$(date +%s) pid
	timeout 400 qemu-system-ppc64 -machine pseries,cap-cfpc=broken,cap-sbbc=broken,cap-ibs=broken,cap-ccf-assist=off \
		-cpu power9 -m 1024M -smp 2 -display none -no-reboot -nic none \
		-kernel "$kdir/vmlinuz" -initrd "$tmp/initrd.gz" \
		-append "console=hvc0 crashkernel=256M loglevel=8 log_buf_len=4M printk.time=1 printk.devkmsg=on gocrash=kdump" \
		-drive "file=$tmp/disk.raw,format=raw,if=virtio" -serial "file:$tmp/console.log" -monitor none \
		>"$tmp/qemu.log" 2>&1 &
	pid=$!
	PIDS=("$pid")
	wait "$pid" || fail "$name" "$tmp" "QEMU failed or timed out: $(tail -3 "$tmp/qemu.log")"
	PIDS=()
	TIMES+=("$(printf '%4ds  %s' $(($(date +%s) - t0)) "$name: QEMU boot, crash, capture")")
	! grep -aq "@@GOCRASH-KEXEC-FAILED@@" "$tmp/console.log" || fail "$name" "$tmp" "kexec -p failed in the guest"
	grep -aq "Kdump: loaded" "$tmp/console.log" || fail "$name" "$tmp" "the panic does not say Kdump: loaded"
	local problem; problem=$(check_console "$tmp/console.log" 2)
	[ -z "$problem" ] || fail "$name" "$tmp" "console.log: $problem"
	[ "$(magic "$tmp/disk.raw")" = elf ] || fail "$name" "$tmp" "the capture disk does not start with an ELF header"
	local end; end=$(elf_end "$tmp/disk.raw")
	[ "$end" -gt 1048576 ] || die "$name: the capture's ELF ends at $end"
	truncate -s "$end" "$tmp/disk.raw"
	mv "$tmp/disk.raw" "$tmp/vmcore"
	readelf -lW "$tmp/vmcore" | grep -q '^ *LOAD' || die "$name: vmcore has no PT_LOAD"
	check_dumps "$tmp" vmcore elf
	rm -f "$tmp/initrd.gz" "$tmp/capture.gz" "$tmp/qemu.log"
	manifest "$tmp" "$name" "$arch" "$rel" "$ver" kdump 2 1024 "$kdir" true \
		'{"file":"vmcore","format":"elf","filtered":false,"how":"kdump capture kernel copy of /proc/vmcore"}'
	chmod 644 "$tmp"/*
	replace "$out" "$tmp"
	log "$name: done ($(du -sh "$out" | cut -f1))"
}

# ppc_s390_main: the kernels, busyboxes and runs of both architectures.
ppc_s390_main() {
	timed "tools ppc64le s390x" foreign_tools
	local k debarch flavour
	for k in "${FOREIGN_KERNELS[@]}"; do
		read -r debarch flavour <<<"$k"
		foreign_resolve "$debarch" "$flavour" || die "cannot resolve linux-image-$flavour:$debarch"
		timed "kernel $(foreign_arch "$debarch")-$REL" foreign_kernel "$debarch" "$REL" "$VER"
		timed "busybox $debarch" foreign_busybox "$debarch"
		timed "run $(foreign_arch "$debarch") qemu" run_foreign "$(foreign_arch "$debarch")" "$KDIR" "$BUSYBOX"
		if [ "$debarch" = ppc64el ]; then
			timed "run ppc64le kdump" run_foreign_kdump ppc64le "$debarch" "$KDIR" "$BUSYBOX"
		fi
	done
}

if [ -z "${PPC_S390_SOURCED:-}" ] && [ "${BASH_SOURCE[0]}" = "$0" ]; then
	# Standalone: build.sh's functions without its main.
	PPC_S390_SOURCED=1
	GOCRASH_CORPUS_LIB=1
	# shellcheck source=build.sh
	source "$(cd "$(dirname "$0")" && pwd)/build.sh"
	setup_root
	ppc_s390_main
	log "step times:"
	printf '        %s\n' "${TIMES[@]}" >&2
	echo "$ROOT"
	exit 0
fi
