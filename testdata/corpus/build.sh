#!/usr/bin/env bash
# Builds gocrash's corpus of real kernel dumps: Debian's own kernels booted
# under QEMU, crashed with sysrq-c, and captured
#   - by a real kdump capture kernel (x86_64), then converted by makedumpfile;
#   - by QEMU's dump-guest-memory (x86_64 and arm64).
# Each guest prints its own ground truth (uname, ps, /proc/modules, sysrq-t
# backtraces) on the serial console before it crashes; console.log keeps it.
#
# Layout (the contract internal/corpus reads):
#   $ROOT/debs/                                     downloaded packages
#   $ROOT/kernels/<arch>-<release>-<pkgversion>/    vmlinuz, vmlinux (debug), modules/
#   $ROOT/dumps/<arch>-<release>-<pkgversion>-<method>/  manifest.json, console.log, dumps
# ROOT is $GOCRASH_CORPUS, else $XDG_CACHE_HOME/gocrash/corpus (~/.cache/...).
# Every directory is built under a temporary name and renamed when complete,
# so an interrupted build never leaves something that looks finished.
# Needs root (apt-get) on Debian 12. GOCRASH_KERNEL_ABI=6.1.0-NN pins the
# kernel; by default the current one of the cloud-kernel metapackages.
set -euo pipefail
shopt -s inherit_errexit # a failure inside $(...) stops the build too

ROOT=${GOCRASH_CORPUS:-${XDG_CACHE_HOME:-$HOME/.cache}/gocrash/corpus}
# Bump RECIPE when a change here changes what a run produces: runs made by
# another recipe are rebuilt.
RECIPE=3
HERE=$(cd "$(dirname "$0")" && pwd)
START=$(date +%s)
log() { printf 'corpus [%3ds]: %s\n' $(($(date +%s) - START)) "$*" >&2; }
die() { log "error: $*"; exit 1; }

mkdir -p "$ROOT/debs" "$ROOT/kernels" "$ROOT/dumps"

# ---- tools ---------------------------------------------------------------

apt_updated=
apt_update() { [ -n "$apt_updated" ] || { log "apt-get update"; apt-get update -qq >/dev/null; apt_updated=1; }; }

ensure_tools() {
	local missing=()
	command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
	command -v qemu-system-aarch64 >/dev/null || missing+=(qemu-system-arm)
	command -v makedumpfile >/dev/null || missing+=(makedumpfile)
	[ -x /usr/sbin/kexec ] || [ -x /sbin/kexec ] || missing+=(kexec-tools)
	[ -x /bin/busybox ] || missing+=(busybox-static)
	command -v cpio >/dev/null || missing+=(cpio)
	command -v socat >/dev/null || missing+=(socat)
	command -v xz >/dev/null || missing+=(xz-utils)
	# Not for the build: the references the tests compare gocrash with.
	command -v crash >/dev/null || missing+=(crash)
	[ -x /usr/bin/time ] || missing+=(time)
	/usr/bin/python3 -c 'import drgn' 2>/dev/null || missing+=(python3-drgn)
	if [ ${#missing[@]} -gt 0 ]; then
		apt_update
		log "installing ${missing[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	fi
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		dpkg --add-architecture arm64
		apt_updated=
	fi
}

# ---- kernels -------------------------------------------------------------

# abi META DEBARCH: the ABI name (6.1.0-NN, 6.12.NN+deb12) of the kernel the
# metapackage META names.
abi() {
	if [ -n "${GOCRASH_KERNEL_ABI:-}" ] && [ "$1" = "linux-image-cloud-$2" ]; then echo "$GOCRASH_KERNEL_ABI"; return; fi
	local dep
	dep=$(apt-cache depends "$1:$2" 2>/dev/null | sed -n "s/.*Depends: linux-image-\(.*\)-cloud-$2\(:$2\)\{0,1\}\$/\1/p" | head -1)
	[ -n "$dep" ] || die "cannot resolve $1:$2 (apt-get update?)"
	echo "$dep"
}

# fetch PKG: the path of PKG's .deb in debs/, downloading it if missing.
fetch() {
	local pkg=$1 name=${1%%:*} f
	f=$(ls "$ROOT/debs/${name}_"*.deb 2>/dev/null | head -1 || true)
	if [ -z "$f" ]; then
		apt_update
		log "downloading $pkg"
		(cd "$ROOT/debs" && apt-get download -qq "$pkg" 2>/dev/null) || die "apt-get download $pkg failed"
		f=$(ls "$ROOT/debs/${name}_"*.deb | head -1)
	fi
	echo "$f"
}

# kernel DEBARCH [META]: extracts vmlinuz, the debug vmlinux, System.map and
# a few modules of the kernel that metapackage META (default: the cloud
# kernel) names into kernels/<arch>-<release>-<version>/; prints that path.
kernel() {
	local debarch=$1 meta=${2:-linux-image-cloud-$1} arch a rel img dbg ver dir tmp
	case $debarch in amd64) arch=x86_64 ;; arm64) arch=arm64 ;; esac
	a=$(abi "$meta" "$debarch")
	rel="$a-cloud-$debarch"
	img=$(fetch "linux-image-$rel-unsigned:$debarch")
	ver=$(dpkg-deb -f "$img" Version)
	dir="$ROOT/kernels/$arch-$rel-$ver"
	if [ "$(cat "$dir/recipe" 2>/dev/null)" = "$RECIPE" ]; then echo "$dir"; return; fi
	dbg=$(fetch "linux-image-$rel-dbg:$debarch")
	log "extracting $rel ($ver)"
	rm -rf "$dir" # an older layout
	tmp="$dir.tmp.$$"
	rm -rf "$tmp"; mkdir -p "$tmp/x" "$tmp/modules"
	# Modules are .ko on 6.1 and .ko.xz (which busybox's insmod cannot load)
	# on 6.12; virtio itself is built in on 6.12.
	dpkg-deb --fsys-tarfile "$img" | tar -x -C "$tmp/x" --wildcards './boot/vmlinuz-*' \
		'./*lib/modules/*/kernel/drivers/virtio/virtio*.ko*' './*lib/modules/*/kernel/drivers/block/virtio_blk.ko*' \
		'./*lib/modules/*/kernel/drivers/firmware/qemu_fw_cfg.ko*' 2>/dev/null || true
	mv "$tmp/x/boot/vmlinuz-$rel" "$tmp/vmlinuz"
	find "$tmp/x" -name '*.ko.xz' -exec xz -d {} \;
	find "$tmp/x" -name '*.ko' -exec mv {} "$tmp/modules/" \;
	dpkg-deb --fsys-tarfile "$dbg" | tar -x -C "$tmp/x" "./usr/lib/debug/boot/vmlinux-$rel" "./usr/lib/debug/boot/System.map-$rel"
	mv "$tmp/x/usr/lib/debug/boot/vmlinux-$rel" "$tmp/vmlinux"
	mv "$tmp/x/usr/lib/debug/boot/System.map-$rel" "$tmp/System.map" # nm's listing: a reference for tests
	rm -rf "$tmp/x"
	echo "$rel" > "$tmp/release"; echo "$ver" > "$tmp/version"; echo "$RECIPE" > "$tmp/recipe"
	mv "$tmp" "$dir"
	echo "$dir"
}

# ---- initramfs -----------------------------------------------------------

# initramfs OUT BUSYBOX MODULES... [--kdump VMLINUZ CAPTURE]: a gzipped cpio
# of busybox, /init and the modules; with --kdump also kexec, its libraries,
# the capture kernel and the capture initramfs.
initramfs() {
	local out=$1 busybox=$2; shift 2
	local d; d=$(mktemp -d)
	mkdir -p "$d/bin" "$d/modules" "$d/boot"
	cp "$busybox" "$d/bin/busybox"
	cp "$HERE/init.sh" "$d/init"; chmod +x "$d/init"
	while [ $# -gt 0 ]; do
		case $1 in
		--kdump)
			cp "$2" "$d/boot/vmlinuz"; cp "$3" "$d/boot/capture.gz"
			local kexec; kexec=$(command -v kexec || echo /usr/sbin/kexec)
			mkdir -p "$d/usr/sbin"; cp "$kexec" "$d/usr/sbin/kexec"; ln -s ../usr/sbin/kexec "$d/bin/kexec"
			for lib in $(ldd "$kexec" | grep -o '/[^ ]*'); do
				mkdir -p "$d$(dirname "$lib")"; cp -L "$lib" "$d$lib"
			done
			shift 3 ;;
		*) cp "$1" "$d/modules/"; shift ;;
		esac
	done
	(cd "$d" && find . | cpio -o -H newc --quiet | gzip -1) > "$out"
	rm -rf "$d"
}

# ---- runs ----------------------------------------------------------------

# current DIR: DIR holds a run made by this recipe (else it is removed).
current() {
	grep -q "\"recipe\":$RECIPE," "$1/manifest.json" 2>/dev/null && return 0
	rm -rf "$1"
	return 1
}

manifest() { # DIR NAME ARCH REL VER METHOD CPUS MEM KDIR DUMPS-JSON [VMCOREINFO]
	cat > "$1/manifest.json" <<JSON
{"recipe":$RECIPE,"vmcoreinfo":${11:-true},"name":"$2","arch":"$3","release":"$4","package_version":"$5","method":"$6","cpus":$7,"memory_mib":$8,
 "vmlinux":"../../kernels/$(basename "$9")/vmlinux",
 "dumps":[${10}]}
JSON
}

wait_for() { # FILE PATTERN SECONDS PID
	local n=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		kill -0 "$4" 2>/dev/null || return 1
		sleep 1; n=$((n + 1))
		[ $n -lt "$3" ] || return 1
	done
}

# hmp SOCKET COMMAND...: runs HMP commands in order and returns when the
# last has finished (dump-guest-memory blocks the monitor until done, so
# the reply to a trailing 'info status' marks the end).
hmp() {
	local sock=$1 c line ok=1; shift
	coproc MON { timeout 900 socat - "UNIX-CONNECT:$sock"; }
	for c in "$@" "info status"; do echo "$c" >&"${MON[1]}"; done
	while IFS= read -r -t 900 line <&"${MON[0]}"; do
		case $line in
		*"VM status"*) ok=0; break ;;
		*rror*) log "QEMU monitor: $line" ;;
		esac
	done
	kill "$MON_PID" 2>/dev/null || true
	return $ok
}

# run_kdump KDIR [VARIANT CPU]: x86_64 kdump capture plus makedumpfile
# conversions; VARIANT (e.g. "la57") names a run on QEMU CPU model CPU.
run_kdump() {
	local kdir=$1 variant=${2:+-$2} cpu=${3:-qemu64} rel ver name out tmp
	rel=$(cat "$kdir/release"); ver=$(cat "$kdir/version")
	name="x86_64-$rel-$ver-kdump$variant"; out="$ROOT/dumps/$name"
	current "$out" && return
	tmp="$out.tmp.$$"; rm -rf "$tmp"; mkdir -p "$tmp"
	log "$name: booting (kdump)"
	initramfs "$tmp/capture.gz" /bin/busybox "$kdir"/modules/virtio*.ko
	initramfs "$tmp/initrd.gz" /bin/busybox "$kdir/modules/qemu_fw_cfg.ko" --kdump "$kdir/vmlinuz" "$tmp/capture.gz"
	truncate -s 1200M "$tmp/disk.raw"
	timeout 600 qemu-system-x86_64 -cpu "$cpu" -m 1024M -smp 2 -display none -no-reboot \
		-kernel "$kdir/vmlinuz" -initrd "$tmp/initrd.gz" \
		-append "console=ttyS0 crashkernel=256M loglevel=8 log_buf_len=4M printk.time=1 printk.devkmsg=on gocrash=kdump" \
		-drive "file=$tmp/disk.raw,format=raw,if=virtio" -serial "file:$tmp/console.log" -monitor none \
		>"$tmp/qemu.log" 2>&1 || die "$name: QEMU failed: $(tail -3 "$tmp/qemu.log")"
	grep -q "@@GOCRASH-VMCORE-COPIED@@" "$tmp/console.log" || die "$name: the capture kernel did not copy /proc/vmcore (see $tmp/console.log)"
	local size; size=$(sed -n 's/.*@@GOCRASH-VMCORE-SIZE \([0-9]*\)@@.*/\1/p' "$tmp/console.log" | head -1)
	truncate -s "$size" "$tmp/disk.raw"; mv "$tmp/disk.raw" "$tmp/vmcore"
	rm -f "$tmp/initrd.gz" "$tmp/capture.gz" "$tmp/qemu.log"
	log "$name: makedumpfile conversions"
	makedumpfile -c -d 31 "$tmp/vmcore" "$tmp/vmcore.zlib" >/dev/null 2>&1 || die "makedumpfile -c failed"
	makedumpfile -l -d 31 "$tmp/vmcore" "$tmp/vmcore.lzo" >/dev/null 2>&1 || die "makedumpfile -l failed"
	makedumpfile -E -d 31 "$tmp/vmcore" "$tmp/vmcore.elf31" >/dev/null 2>&1 || die "makedumpfile -E failed"
	makedumpfile -F -c -d 31 "$tmp/vmcore" > "$tmp/vmcore.flat" 2>/dev/null || die "makedumpfile -F failed"
	makedumpfile --split -c -d 31 "$tmp/vmcore" "$tmp/vmcore.split1" "$tmp/vmcore.split2" >/dev/null 2>&1 || die "makedumpfile --split failed"
	manifest "$tmp" "$name" x86_64 "$rel" "$ver" kdump 2 1024 "$kdir" \
'{"file":"vmcore","format":"elf","filtered":false,"how":"kdump capture kernel copy of /proc/vmcore"},
  {"file":"vmcore.zlib","format":"kdump","filtered":true,"how":"makedumpfile -c -d 31"},
  {"file":"vmcore.lzo","format":"kdump","filtered":true,"how":"makedumpfile -l -d 31"},
  {"file":"vmcore.elf31","format":"elf","filtered":true,"how":"makedumpfile -E -d 31"},
  {"file":"vmcore.flat","format":"flattened","filtered":true,"how":"makedumpfile -F -c -d 31"},
  {"file":"vmcore.split1","parts":["vmcore.split1","vmcore.split2"],"format":"kdump","filtered":true,"how":"makedumpfile --split -c -d 31"}'
	mv "$tmp" "$out"
	log "$name: done"
}

# run_qemu ARCH KDIR BUSYBOX [VARIANT CPU VMCOREINFO]: a guest crashed and
# dumped by QEMU; VARIANT names a run on CPU model CPU, with the vmcoreinfo
# device unless VMCOREINFO is "no".
run_qemu() {
	local arch=$1 kdir=$2 busybox=$3 variant=${4:+-$4} cpu=${5:-} vmci=${6:-yes} rel ver name out tmp qemu console
	rel=$(cat "$kdir/release"); ver=$(cat "$kdir/version")
	name="$arch-$rel-$ver-qemu$variant"; out="$ROOT/dumps/$name"
	current "$out" && return
	tmp="$out.tmp.$$"; rm -rf "$tmp"; mkdir -p "$tmp"
	log "$name: booting (QEMU dump)"
	initramfs "$tmp/initrd.gz" "$busybox" "$kdir/modules/qemu_fw_cfg.ko"
	case $arch in
	x86_64) qemu=(qemu-system-x86_64 -cpu "${cpu:-qemu64}"); console=ttyS0 ;;
	arm64) qemu=(qemu-system-aarch64 -M virt -cpu max); console=ttyAMA0 ;;
	esac
	local sockdir; sockdir=$(mktemp -d /tmp/gocrash-mon.XXXXXX) # unix socket paths must be short
	[ "$vmci" = no ] || qemu+=(-device vmcoreinfo)
	"${qemu[@]}" -m 512M -smp 2 -display none \
		-kernel "$kdir/vmlinuz" -initrd "$tmp/initrd.gz" \
		-append "console=$console loglevel=8 log_buf_len=4M printk.time=1 printk.devkmsg=on panic=0 gocrash=qemu" \
		-serial "file:$tmp/console.log" -monitor "unix:$sockdir/mon.sock,server,nowait" \
		>"$tmp/qemu.log" 2>&1 &
	local pid=$!
	if ! wait_for "$tmp/console.log" "Kernel panic - not syncing" 600 $pid; then
		kill $pid 2>/dev/null || true
		die "$name: the guest did not panic (see $tmp/console.log)"
	fi
	sleep 2 # let the panic messages reach the log
	# 'stop' first: both dumps then hold the same memory, byte for byte.
	log "$name: dump-guest-memory"
	hmp "$sockdir/mon.sock" stop "dump-guest-memory $tmp/vmcore.elf" "dump-guest-memory -z $tmp/vmcore.kdump-zlib" ||
		{ kill $pid; die "$name: dump-guest-memory failed"; }
	kill $pid 2>/dev/null || true # the dumps are complete: hmp saw them finish
	wait $pid 2>/dev/null || true
	[ -s "$tmp/vmcore.elf" ] && [ -s "$tmp/vmcore.kdump-zlib" ] || die "$name: dump files missing"
	rm -rf "$tmp/initrd.gz" "$tmp/qemu.log" "$sockdir"
	local hasvmci=true; [ "$vmci" = no ] && hasvmci=false
	manifest "$tmp" "$name" "$arch" "$rel" "$ver" qemu 2 512 "$kdir" \
'{"file":"vmcore.elf","format":"elf","filtered":false,"how":"QEMU dump-guest-memory"},
  {"file":"vmcore.kdump-zlib","format":"flattened","filtered":true,"how":"QEMU dump-guest-memory -z (flattened form, dump level 1)"}' \
		"$hasvmci"
	mv "$tmp" "$out"
	log "$name: done"
}

# ---- main ----------------------------------------------------------------

ensure_tools
# Building anything: refresh the package lists first, so that the kernel
# the metapackages name is one the mirror still serves.
if [ "$(grep -l "\"recipe\":$RECIPE," "$ROOT"/dumps/*/manifest.json 2>/dev/null | wc -l)" -lt 6 ]; then apt_update; fi
x86=$(kernel amd64)
x86new=$(kernel amd64 linux-image-6.12-cloud-amd64)
arm=$(kernel arm64)
armbb="$ROOT/kernels/busybox-arm64"
if [ ! -x "$armbb" ]; then
	bb=$(fetch busybox-static:arm64)
	dpkg-deb --fsys-tarfile "$bb" | tar -x -O ./bin/busybox > "$armbb.tmp" && chmod +x "$armbb.tmp" && mv "$armbb.tmp" "$armbb"
fi
run_kdump "$x86"
run_kdump "$x86" la57 qemu64,+la57 # 5-level paging
run_qemu x86_64 "$x86" /bin/busybox
# 5-level paging and no VMCOREINFO: the page tables and KASLR must be found
# from the CPU state QEMU records.
run_qemu x86_64 "$x86" /bin/busybox la57-novmcoreinfo qemu64,+la57 no
run_qemu x86_64 "$x86new" /bin/busybox
run_qemu arm64 "$arm" "$armbb"
log "corpus ready at $ROOT ($(du -sh "$ROOT" | cut -f1))"
