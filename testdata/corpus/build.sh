#!/usr/bin/env bash
# Builds gocrash's corpus of real kernel dumps: Debian's own kernels booted
# under QEMU (TCG), crashed with sysrq-c (and, on x86_64 6.1 and 6.12 and
# arm64 6.1, in other real ways by the corpus's own test module,
# module/gocrash_test.c), and captured
#   - by a real kdump capture kernel (x86_64), then converted by makedumpfile;
#   - by QEMU's dump-guest-memory (x86_64 and arm64).
# The live-guest test (cmd/gocrash) also loads the corpus's own /dev/crash
# driver, crashdev/gocrash_crashdev.c, built here beside the test module.
# Each guest prints its own ground truth (uname, nproc, ps, /proc/modules,
# sysrq-t backtraces) on the serial console before it crashes (init.sh);
# console.log keeps it, and internal/corpus parses it.
#
# Usage: bash testdata/corpus/build.sh      (as root: apt-get and QEMU; it
#        installs only build tools: kernels, headers and trixie's makedumpfile
#        are extracted from their packages into ROOT)
# Environment:
#   GOCRASH_CORPUS       the corpus root (default $XDG_CACHE_HOME/gocrash/corpus,
#                        else ~/.cache/gocrash/corpus)
#   GOCRASH_KERNEL_ABI   pin the Debian 12 cloud kernel ABI, e.g. 6.1.0-56
#                        (default: the one the linux-image-cloud-* metapackages name)
#   GOCRASH_DEBIAN_MIRROR  where Debian 11 (bullseye) packages come from
#                        (default: the machine's own Debian mirror, as its apt
#                        sources name it, else http://deb.debian.org/debian)
#
# Layout (the contract internal/corpus reads; keep it):
#   ROOT/debs/                                          downloaded packages
#   ROOT/apt/<suite>/                                   a private apt state for another Debian
#                                                       release (bullseye; trixie for a tool): the
#                                                       machine's own apt sources and packages
#                                                       are left alone
#   ROOT/tools/makedumpfile-<version>/                  trixie's makedumpfile, extracted (6.12 dumps)
#   ROOT/kernels/<arch>-<release>-<pkgversion>/         vmlinuz, vmlinux (DWARF), modules/, System.map
#   ROOT/kernels/<arch>-<release>-<pkgversion>/headers/ Debian's linux-headers-<release> (and its
#                                                       -common and linux-kbuild), extracted
#   ROOT/kernels/<arch>-<release>-<pkgversion>/testmod/ gocrash_test.ko (with its DWARF) built
#                                                       against them, its source, recipe (x86_64
#                                                       6.1 and 6.12, arm64 6.1); and on x86_64
#                                                       6.1 gocrash_crashdev.ko (/dev/crash, for
#                                                       the live-guest test), its source,
#                                                       crashdev.recipe
#   ROOT/kernels/busybox-arm64                          the arm64 guests' busybox (x86_64 uses /bin/busybox)
#   ROOT/dumps/<arch>-<release>-<pkgversion>-<method>[-variant]/
#                                                       manifest.json, console.log, dump files;
#                                                       a crash-kind run (-kdump-<kind>, arm64
#                                                       -qemu-<kind>) also keeps the
#                                                       gocrash_test.ko it loaded
#   ROOT/busy/x86_64-<release>-<pkgversion>-kdump-busy/ the busy runs (build-busy.sh: a disk,
#                                                       sockets, neighbours), laid out as dumps/'s
#   ROOT/large/                                         the large-machine run (build-large.sh)
# Every kernel and run directory is built in ROOT/tmp/ and renamed into place
# only when complete and checked (manifest.json written last), so a killed
# build never leaves something that looks finished. A second run with
# everything present only checks and returns in seconds; it prints ROOT on
# stdout (progress goes to stderr).
set -eEuo pipefail
shopt -s inherit_errexit # a failure inside $(...) stops the build too

ROOT=${GOCRASH_CORPUS:-${XDG_CACHE_HOME:-$HOME/.cache}/gocrash/corpus}
# Bump RUN_RECIPE when a change here or in init.sh changes what a run
# produces, KERNEL_RECIPE when it changes what kernels/ holds: directories
# made by another recipe are rebuilt (and replaced only once the new one is
# complete).
RUN_RECIPE=5
KERNEL_RECIPE=4 # (3 was the recipe both kinds of directory shared before)
# The crash-kind runs (run_kdump with a CRASH other than sysrq) are also
# checked against CRASH_RECIPE (bump it when the way they crash changes) and
# the test module's source (module_recipe): editing the module rebuilds them,
# and only them.
CRASH_RECIPE=2
# The crash kinds, each a run of its own (see init.sh and
# module/gocrash_test.c: a kdump run on x86_64, a QEMU one on arm64), with
# the line its console must show (CRASH_REPORT[ARCH/KIND] where an
# architecture words it otherwise).
CRASH_KINDS=(oops oops-timer bug warn softlockup hungtask)
declare -A CRASH_REPORT=(
	[arm64/oops]='^Unable to handle kernel NULL pointer dereference at virtual address '
	[arm64/oops-timer]='^Unable to handle kernel NULL pointer dereference at virtual address ')
CRASH_REPORT+=(
	[sysrq]='^Kernel panic - not syncing: sysrq triggered crash'
	[oops]='^BUG: kernel NULL pointer dereference'
	[oops-timer]='^BUG: kernel NULL pointer dereference'
	[bug]='^kernel BUG at '
	[warn]='^Kernel panic - not syncing: kernel: panic_on_warn set'
	[softlockup]='^Kernel panic - not syncing: softlockup: hung tasks'
	[hungtask]='^Kernel panic - not syncing: hung_task: blocked tasks'
)
TESTMOD=gocrash_test
# The corpus's own /dev/crash driver (crashdev/gocrash_crashdev.c), built
# beside the test module for the live-guest test; no run loads it.
CRASHDEV=gocrash_crashdev
HERE=$(cd "$(dirname "$0")" && pwd)
START=$(date +%s)
# Modules every guest loads, so that /proc/modules (and the dump's module
# list) is not trivial; qemu_fw_cfg is also what hands the guest's
# VMCOREINFO to QEMU's -device vmcoreinfo.
WORKLOAD_MODULES=(qemu_fw_cfg dummy loop)
# What kdump's capture kernel needs to reach its virtio disk (mod_order
# loads each module's dependencies first)...
CAPTURE_MODULES=(virtio_pci virtio_blk)
# ...and those dependencies on the kernels here, extracted with them when a
# kernel has them (5.10 has no virtio_pci_legacy_dev or
# virtio_pci_modern_dev; 6.12 builds virtio and virtio_pci in).
CAPTURE_DEPS=(virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev)

log() { printf 'corpus [%3ds] %s\n' $(($(date +%s) - START)) "$*" >&2; }
die() { log "error: $*"; exit 1; }
# A command that fails unguarded stops the build (set -e): say which.
trap 'log "error: failed (status $?) at line $LINENO: $BASH_COMMAND"' ERR

# timed LABEL COMMAND...: runs COMMAND and records how long it took. (No
# "|| rc=$?" here: that would turn set -e off inside COMMAND.)
TIMES=()
timed() {
	local label=$1 t0 rc; shift
	t0=$(date +%s)
	"$@"
	rc=$? # reached on failure only where the caller tests timed's status
	TIMES+=("$(printf '%4ds  %s' $(($(date +%s) - t0)) "$label")")
	return $rc
}

# fail NAME RUNDIR MESSAGE: dies, keeping the run's console log (the scratch
# directory goes away) under ROOT/tmp for a look.
fail() {
	if [ -f "$2/console.log" ]; then
		cp "$2/console.log" "$ROOT/tmp/$1.console.log"
		die "$1: $3 (console: $ROOT/tmp/$1.console.log)"
	fi
	die "$1: $3"
}

# ---- scratch space, locking, cleanup -------------------------------------

SCRATCH= # this build's scratch directory, under ROOT/tmp (same filesystem: mv is a rename)
PIDS=()  # QEMU processes this build started
MONDIR=  # the QEMU monitor socket's directory (in /tmp: socket paths are short)
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	[ -z "$SCRATCH" ] || rm -rf "$SCRATCH"
	[ -z "$MONDIR" ] || rm -rf "$MONDIR"
}
trap cleanup EXIT
trap 'die "interrupted"' INT TERM

setup_root() {
	mkdir -p "$ROOT/debs" "$ROOT/kernels" "$ROOT/dumps" "$ROOT/tmp"
	# One build at a time: a second one waits, then finds the work done.
	exec 9>"$ROOT/.lock"
	if ! flock -n 9; then
		log "another build holds $ROOT/.lock; waiting"
		flock 9
	fi
	# Holding the lock, anything left in tmp/ is from a killed build.
	rm -rf "${ROOT:?}/tmp/"*
	SCRATCH=$(mktemp -d "$ROOT/tmp/build.XXXXXX")
}

# ---- tools ---------------------------------------------------------------

APT_UPDATED=
apt_update() {
	[ -z "$APT_UPDATED" ] || return 0
	log "apt-get update"
	apt-get update -qq >"$SCRATCH/apt.log" 2>&1 || die "apt-get update failed: $(tail -3 "$SCRATCH/apt.log")"
	APT_UPDATED=1
	local suite
	for suite in $(suites); do suite_update "$suite"; done
}

# ---- other Debian releases -----------------------------------------------
# A kernel of another Debian release (KERNELS' third field, e.g. bullseye)
# is looked up and downloaded through a private apt state under ROOT/apt/,
# never through the machine's own sources: apt-get download only, nothing
# installed, bookworm's packages undisturbed. "-" is the machine's apt.

# suites: the other releases KERNELS names, one a line.
suites() {
	local k debarch meta suite
	for k in "${KERNELS[@]}"; do
		read -r debarch meta suite <<<"$k"
		[ "${suite:--}" = - ] || echo "$suite"
	done | sort -u
}

# debian_mirror: the machine's Debian mirror (a proxy, a snapshot), from its
# apt sources, so that another release comes from where this one does.
debian_mirror() {
	if [ -n "${GOCRASH_DEBIAN_MIRROR:-}" ]; then echo "$GOCRASH_DEBIAN_MIRROR"; return; fi
	local m
	m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
		grep -v '^ *#' | grep -o 'https\?://[^ ]*/debian/\?\( \|$\)' | head -1 | tr -d ' ' || true)
	echo "${m:-http://deb.debian.org/debian}"
}

# aptx SUITE apt-get|apt-cache ARG...: the apt command on SUITE's private
# state ("-": the machine's own apt).
aptx() {
	local suite=$1 cmd=$2 d
	shift 2
	if [ "$suite" = - ]; then "$cmd" "$@"; return; fi
	d="$ROOT/apt/$suite"
	# Only the architectures the suite's kernels need; no DEP-11 metadata.
	local k debarch meta s arch= archs=()
	for k in "${KERNELS[@]}"; do
		read -r debarch meta s <<<"$k"
		[ "${s:--}" = "$suite" ] || continue
		arch=${arch:-$debarch}
		archs+=(-o "APT::Architectures::=$debarch")
	done
	# A suite no kernel comes from (a tool's, trixie): the machine's architecture.
	[ -n "$arch" ] || { arch=$(dpkg --print-architecture); archs=(-o "APT::Architectures::=$arch"); }
	"$cmd" -o "Dir::Etc::SourceList=$d/sources.list" -o "Dir::Etc::SourceParts=$d/sources.list.d" \
		-o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d/cache" -o "Dir::Cache::pkgcache=" \
		-o "Dir::Cache::srcpkgcache=" -o "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false" \
		-o "APT::Architecture=$arch" "${archs[@]}" "$@"
}

# suite_update SUITE: writes SUITE's sources (its main archive only: the
# mirror here serves bookworm-security but not bullseye-security's pool, so
# bullseye's kernel is its last point release's) and fetches its lists.
suite_update() {
	local suite=$1 d="$ROOT/apt/$1"
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/sources.list.d"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $(debian_mirror) $suite main" >"$d/sources.list"
	log "apt-get update ($suite)"
	aptx "$suite" apt-get update -qq >"$SCRATCH/apt.log" 2>&1 ||
		die "apt-get update ($suite) failed: $(tail -3 "$SCRATCH/apt.log")"
}

# suite_has_lists SUITE: its package lists were fetched once.
suite_has_lists() {
	[ "$1" = - ] || compgen -G "$ROOT/apt/$1/lists/*_Packages*" >/dev/null
}

ensure_tools() {
	[ "$(id -u)" = 0 ] || die "run as root (apt-get, QEMU)"
	command -v apt-get >/dev/null || die "needs Debian's apt-get"
	# The arm64 kernel and busybox are foreign-architecture packages.
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		log "dpkg --add-architecture arm64"
		dpkg --add-architecture arm64
		APT_UPDATED=
		apt_update
	fi
	local missing=()
	command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
	command -v qemu-system-aarch64 >/dev/null || missing+=(qemu-system-arm)
	command -v qemu-img >/dev/null || missing+=(qemu-utils)
	command -v makedumpfile >/dev/null || missing+=(makedumpfile)
	[ -x /usr/sbin/kexec ] || [ -x /sbin/kexec ] || missing+=(kexec-tools)
	[ -x /bin/busybox ] || missing+=(busybox-static)
	command -v cpio >/dev/null || missing+=(cpio)
	command -v socat >/dev/null || missing+=(socat)
	command -v xz >/dev/null || missing+=(xz-utils)
	command -v zstd >/dev/null || missing+=(zstd)
	command -v readelf >/dev/null || missing+=(binutils)
	command -v file >/dev/null || missing+=(file)
	# Not for the build: the references the tests compare gocrash with.
	command -v crash >/dev/null || missing+=(crash)
	[ -x /usr/bin/time ] || missing+=(time)
	command -v tmux >/dev/null || missing+=(tmux) # the terminal test drives the prompt through tmux
	command -v pahole >/dev/null || missing+=(dwarves) # type layouts are checked against pahole
	command -v gcc >/dev/null || missing+=(gcc) # symbols' unit tests compile small C programs
	command -v make >/dev/null || missing+=(make) # the test module (the extracted linux-headers bring the rest)
	# ...and the compilers the kernels were built with (CONFIG_CC_VERSION_TEXT:
	# gcc-12, x86_64-linux-gnu-gcc-12), arm64's cross-built.
	command -v x86_64-linux-gnu-gcc-12 >/dev/null || missing+=(gcc-12)
	command -v aarch64-linux-gnu-gcc-12 >/dev/null || missing+=(gcc-12-aarch64-linux-gnu)
	/usr/bin/python3 -c 'import drgn' 2>/dev/null || missing+=(python3-drgn)
	command -v gdb-multiarch >/dev/null || missing+=(gdb-multiarch) # arm64 dis is checked against gdb's
	command -v debuginfod-find >/dev/null || missing+=(debuginfod) # the build-id lookup shares elfutils' cache
	command -v parallel >/dev/null || missing+=(parallel) # docs/fleet.md's GNU parallel recipe is run by a test
	if [ ${#missing[@]} -gt 0 ]; then
		apt_update
		log "apt-get install ${missing[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
			>"$SCRATCH/apt.log" 2>&1 || die "apt-get install failed: $(tail -3 "$SCRATCH/apt.log")"
	fi
	# /bin/busybox must be the static one: it runs alone in the initramfs.
	file -L /bin/busybox | grep -Eq 'statically linked|static-pie' || die "/bin/busybox is not busybox-static"
}

# ---- packages ------------------------------------------------------------

# What apt says about the kernels, from one apt-cache call of each kind per
# apt state: apt-cache is slow here (~1.2 s a call: Debian's docker-clean
# turns its package cache off), and a finished corpus should be checked in
# seconds.
declare -A DEPENDS_OF=() CANDIDATE=()

# apt_lookup: DEPENDS_OF[suite/metapackage] = the kernel image it names, and
# CANDIDATE[suite/package] = its candidate version, for every kernel of
# KERNELS (names without their :arch suffix; absent ones are left out).
# Another release's lists are fetched the first time it is looked up.
apt_lookup() {
	DEPENDS_OF=() CANDIDATE=()
	local suite
	for suite in - $(suites); do
		if ! suite_has_lists "$suite"; then
			[ -n "$APT_UPDATED" ] || suite_update "$suite"
		fi
		apt_lookup_suite "$suite"
	done
}

apt_lookup_suite() {
	local suite=$1 k debarch meta s abi cur line metas=() pkgs=()
	for k in "${KERNELS[@]}"; do
		read -r debarch meta s <<<"$k"
		[ "${s:--}" = "$suite" ] && metas+=("$meta:$debarch")
	done
	[ ${#metas[@]} -gt 0 ] || return 0
	while IFS= read -r line; do
		case $line in
		" "*)
			if [ -n "$cur" ] && [ -z "${DEPENDS_OF[$cur]:-}" ] && [[ $line =~ ^\ *Depends:\ ([^ ]+)$ ]]; then
				DEPENDS_OF[$cur]=${BASH_REMATCH[1]%%:*}
			fi ;;
		*) cur=$suite/${line%%:*} ;;
		esac
	done < <(aptx "$suite" apt-cache depends "${metas[@]}" 2>/dev/null || true)
	for k in "${KERNELS[@]}"; do
		read -r debarch meta s <<<"$k"
		[ "${s:--}" = "$suite" ] || continue
		abi=$(kernel_abi "$debarch" "$meta" "$suite")
		[ -z "$abi" ] || pkgs+=("linux-image-$abi-cloud-$debarch-unsigned:$debarch")
	done
	[ ${#pkgs[@]} -gt 0 ] || return 0
	cur=
	while IFS= read -r line; do
		case $line in
		" "*)
			if [ -n "$cur" ] && [[ $line =~ ^\ *Candidate:\ ([^ ]+)$ ]] && [ "${BASH_REMATCH[1]}" != "(none)" ]; then
				CANDIDATE[$cur]=${BASH_REMATCH[1]}
			fi ;;
		*) cur=${line%:}; cur=$suite/${cur%%:*} ;;
		esac
	done < <(aptx "$suite" apt-cache policy "${pkgs[@]}" 2>/dev/null || true)
}

# kernel_abi DEBARCH META SUITE: the ABI (6.1.0-NN, 6.12.NN+deb12) of the
# kernel metapackage META names; GOCRASH_KERNEL_ABI pins the machine's own
# linux-image-cloud-* one.
kernel_abi() {
	if [ -n "${GOCRASH_KERNEL_ABI:-}" ] && [ "$2" = "linux-image-cloud-$1" ] && [ "$3" = - ]; then
		echo "$GOCRASH_KERNEL_ABI"
		return
	fi
	local img=${DEPENDS_OF[$3/$2]:-}
	case $img in
	linux-image-*-cloud-"$1") img=${img#linux-image-}; echo "${img%-cloud-"$1"}" ;;
	esac
}

# resolve_kernel DEBARCH META SUITE: sets REL (e.g. 6.1.0-56-cloud-amd64) and
# VER (the package version, e.g. 6.1.192-2) of the kernel META names, from
# what apt_lookup found. Returns 1 when apt cannot tell (package lists
# missing or stale) and debs/ has no copy either.
resolve_kernel() {
	local debarch=$1 meta=$2 suite=$3 abi pkg f
	REL= VER=
	abi=$(kernel_abi "$debarch" "$meta" "$suite")
	[ -n "$abi" ] || return 1
	REL="$abi-cloud-$debarch"
	pkg="linux-image-$REL-unsigned"
	VER=${CANDIDATE[$suite/$pkg]:-}
	if [ -z "$VER" ]; then
		# apt does not know it (a pinned ABI gone from the mirror): a copy in
		# debs/ will do.
		f=$(ls "$ROOT/debs/${pkg}_"*"_$debarch.deb" 2>/dev/null | sort -V | tail -1 || true)
		[ -n "$f" ] || return 1
		VER=$(dpkg-deb -f "$f" Version)
	fi
}

# deb_path PKG DEBARCH VERSION: the .deb in debs/, or nothing.
deb_path() {
	local f
	for f in "$ROOT/debs/${1}_"*"_$2.deb"; do
		[ -f "$f" ] && [ "$(dpkg-deb -f "$f" Version 2>/dev/null)" = "$3" ] && { echo "$f"; return; }
	done
	return 0
}

# fetch PKG DEBARCH VERSION [SUITE]: makes sure debs/ holds that package
# (apt-get download into a scratch directory, then a rename, so that a
# killed download never looks complete); sets DEB to its path.
fetch() {
	local pkg=$1 debarch=$2 ver=$3 suite=${4:--} d
	DEB=$(deb_path "$pkg" "$debarch" "$ver")
	[ -z "$DEB" ] || return 0
	apt_update
	log "downloading $pkg:$debarch=$ver"
	d=$(mktemp -d "$SCRATCH/dl.XXXXXX")
	(cd "$d" && aptx "$suite" apt-get download -q "$pkg:$debarch=$ver") >"$d.log" 2>&1 ||
		die "apt-get download $pkg:$debarch=$ver failed: $(grep -v '^W:' "$d.log" | tail -3)"
	mv "$d"/*.deb "$ROOT/debs/"
	rmdir "$d"
	DEB=$(deb_path "$pkg" "$debarch" "$ver")
	[ -n "$DEB" ] || die "downloaded $pkg but cannot find it in $ROOT/debs"
}

# newer_makedumpfile: the path of Debian 13 (trixie)'s makedumpfile, kept
# under ROOT/tools/ (extracted from its package, not installed; it runs on
# Debian 12): Debian 12's 1.7.2 predates 6.12's page types and filters a
# 6.12 dump wrong (-d 31 drops live slab pages, task_structs among them).
# Sets MDF_NEWER.
NEWER_MAKEDUMPFILE=1:1.7.6-1
newer_makedumpfile() {
	local out="$ROOT/tools/makedumpfile-${NEWER_MAKEDUMPFILE#*:}" tmp
	MDF_NEWER="$out/usr/bin/makedumpfile"
	[ -x "$MDF_NEWER" ] && return 0
	suite_has_lists trixie || suite_update trixie
	fetch makedumpfile "$(dpkg --print-architecture)" "$NEWER_MAKEDUMPFILE" trixie
	tmp=$(mktemp -d "$SCRATCH/mdf.XXXXXX")
	dpkg-deb -x "$DEB" "$tmp"
	"$tmp/usr/bin/makedumpfile" -v >/dev/null 2>&1 || die "trixie's makedumpfile does not run here"
	mkdir -p "$ROOT/tools"
	replace "$out" "$tmp"
}

# ---- kernels -------------------------------------------------------------

arch_of() { case $1 in amd64) echo x86_64 ;; arm64) echo arm64 ;; *) die "unknown arch $1" ;; esac; }
kernel_dir() { echo "$ROOT/kernels/$(arch_of "$1")-$2-$3"; } # DEBARCH REL VER
kernel_ok() { [ "$(cat "$1/recipe" 2>/dev/null)" = "$KERNEL_RECIPE" ]; }

# replace DIR NEW: puts the complete NEW in DIR's place (an older DIR is
# moved aside first, so DIR is never half-written).
replace() {
	chmod 755 "$2" # mktemp -d made it 0700
	if [ -e "$1" ]; then mv "$1" "$SCRATCH/old.$$.$RANDOM"; fi
	mv "$2" "$1"
}

# extract_kernel DEBARCH REL VER SUITE: kernels/<arch>-REL-VER/ with vmlinuz, the
# debug vmlinux, System.map (nm's listing: a reference for symbol tests),
# modules.builtin and the modules the guests load.
extract_kernel() {
	local debarch=$1 rel=$2 ver=$3 suite=$4 dir tmp img dbg m
	dir=$(kernel_dir "$debarch" "$rel" "$ver")
	kernel_ok "$dir" && return 0
	fetch "linux-image-$rel-unsigned" "$debarch" "$ver" "$suite"; img=$DEB
	fetch "linux-image-$rel-dbg" "$debarch" "$ver" "$suite"; dbg=$DEB
	log "extracting $rel ($ver)"
	tmp=$(mktemp -d "$SCRATCH/kernel.XXXXXX")
	mkdir -p "$tmp/x" "$tmp/modules"
	# Modules sit under lib/ (6.1) or usr/lib/ (newer) and may be .ko.xz
	# (6.12) or .ko.zst, which busybox's insmod cannot load: decompressed below. Some
	# patterns match nothing (a module built in): tar complains, and the
	# checks below decide.
	local pats=("./boot/vmlinuz-$rel" "./*lib/modules/$rel/modules.builtin")
	for m in "${WORKLOAD_MODULES[@]}" "${CAPTURE_MODULES[@]}" "${CAPTURE_DEPS[@]}"; do pats+=("./*lib/modules/$rel/kernel/*/$m.ko*"); done
	dpkg-deb --fsys-tarfile "$img" | tar -x -C "$tmp/x" --wildcards "${pats[@]}" 2>"$tmp/tar.err" || true
	[ -f "$tmp/x/boot/vmlinuz-$rel" ] || die "no vmlinuz in $img: $(head -3 "$tmp/tar.err")"
	mv "$tmp/x/boot/vmlinuz-$rel" "$tmp/vmlinuz"
	find "$tmp/x" -name modules.builtin -exec mv {} "$tmp/modules.builtin" \;
	find "$tmp/x" -name '*.ko.xz' -exec xz -d {} +
	find "$tmp/x" -name '*.ko.zst' -exec zstd -q -d --rm {} +
	find "$tmp/x" -name '*.ko' -exec mv {} "$tmp/modules/" \;
	# The debug vmlinux and System.map are the first members of the 280 MB
	# -dbg package: --occurrence lets tar stop there instead of
	# decompressing every module's debug info (16 s instead of 40 s).
	# dpkg-deb then dies of SIGPIPE, which is expected.
	{ dpkg-deb --fsys-tarfile "$dbg" 2>/dev/null || true; } |
		tar -x -C "$tmp/x" --occurrence=1 "./usr/lib/debug/boot/vmlinux-$rel" "./usr/lib/debug/boot/System.map-$rel"
	mv "$tmp/x/usr/lib/debug/boot/vmlinux-$rel" "$tmp/vmlinux"
	mv "$tmp/x/usr/lib/debug/boot/System.map-$rel" "$tmp/System.map"
	[ "$(head -c 4 "$tmp/vmlinux" | od -An -c | tr -d ' ')" = '177ELF' ] || die "$dbg: vmlinux is not an ELF file"
	rm -rf "$tmp/x" "$tmp/tar.err"
	# Every module a guest loads must be here, or built in.
	mod_order "$tmp" "${WORKLOAD_MODULES[@]}" "${CAPTURE_MODULES[@]}" >/dev/null
	echo "$rel" >"$tmp/release"
	echo "$ver" >"$tmp/version"
	echo "$KERNEL_RECIPE" >"$tmp/recipe"
	replace "$dir" "$tmp"
}

# mod_order KDIR NAME...: prints the modules to insmod for NAMEs, each
# after its dependencies (read from the module's own depends= field, as
# there is no modules.dep in the package), leaving out built-in ones.
mod_order() {
	local kdir=$1; shift
	local -A seen=()
	local out=()
	visit() {
		local m=$1 d deps
		[ -z "${seen[$m]:-}" ] || return 0
		seen[$m]=1
		if [ ! -f "$kdir/modules/$m.ko" ]; then
			# modules.builtin names them with - or _ alike.
			grep -q "/${m//_/[-_]}\.ko\$" "$kdir/modules.builtin" 2>/dev/null && return 0
			die "module $m is neither in $kdir/modules nor built in"
		fi
		deps=$(tr '\0' '\n' <"$kdir/modules/$m.ko" | sed -n 's/^depends=//p' | head -1)
		for d in ${deps//,/ }; do visit "$d"; done
		out+=("$m")
	}
	local m
	for m in "$@"; do visit "$m"; done
	printf '%s\n' "${out[@]}"
}

# busybox_arm64: the arm64 guests' static busybox, from busybox-static:arm64
# (kernel tests read it: it must stay at kernels/busybox-arm64).
busybox_arm64() {
	local out="$ROOT/kernels/busybox-arm64" ver
	[ -x "$out" ] && return 0
	# A copy already in debs/ will do, whatever its version.
	DEB=$(ls "$ROOT/debs/busybox-static_"*_arm64.deb 2>/dev/null | head -1 || true)
	if [ -z "$DEB" ]; then
		apt_update
		ver=$(apt-cache policy busybox-static:arm64 | sed -n 's/^ *Candidate: //p' | head -1)
		[ -n "$ver" ] && [ "$ver" != "(none)" ] || die "apt knows no busybox-static:arm64"
		fetch busybox-static arm64 "$ver"
	fi
	dpkg-deb --fsys-tarfile "$DEB" | tar -x -O ./bin/busybox >"$SCRATCH/busybox-arm64"
	chmod 755 "$SCRATCH/busybox-arm64"
	mv "$SCRATCH/busybox-arm64" "$out"
}

# ---- the test module -----------------------------------------------------

# module_recipe: a digest of the test module's source and of how it is
# built (MODULE_BUILD: bump it when make_module or headers change what a
# .ko holds; building against extracted headers instead of installed ones,
# their paths mapped back to /usr/src, did not: same compiler, same headers,
# same DWARF); KDIR/testmod/recipe and each crash-kind run's manifest
# record the one they were built from.
MODULE_BUILD=1
module_recipe() {
	{ [ "$MODULE_BUILD" = 1 ] || echo "build $MODULE_BUILD"; cd "$HERE/module" && cat Kbuild Makefile "$TESTMOD.c"; } |
		sha256sum | cut -c1-16
}

# headers KDIR: sets HDIR to Debian's linux-headers-<release> for KDIR's
# kernel at the kernel's own package version, extracted (dpkg-deb -x, never
# installed) with the -common headers and the linux-kbuild scripts it
# depends on into KDIR/headers/ (kept: extracting takes a few seconds).
# Nothing is installed because nothing can be for every kernel here: 6.12's
# headers depend on the 6.12 image package itself, arm64's are another
# architecture's. The kbuild scripts are programs for the build machine:
# the host architecture's linux-kbuild at the same version. The extracted
# tree's absolute paths are made to point into it: absolute symlinks become
# relative ones, and a Makefile's "include /usr/src/..." names the copy.
HEADERS_RECIPE=1
headers() {
	local kdir=$1 rel ver debarch host out tmp dep l d debs=()
	rel=$(cat "$kdir/release"); ver=$(cat "$kdir/version")
	debarch=${rel##*-} # 6.1.0-57-cloud-arm64: arm64
	out="$kdir/headers"
	HDIR="$out/usr/src/linux-headers-$rel"
	[ "$(cat "$out/recipe" 2>/dev/null)" = "$HEADERS_RECIPE $ver" ] && [ -f "$HDIR/Makefile" ] && return 0
	host=$(dpkg --print-architecture)
	fetch "linux-headers-$rel" "$debarch" "$ver"
	debs=("$DEB")
	for dep in $(dpkg-deb -f "$DEB" Depends | tr ',' '\n' | sed 's/^ *//; s/[ |:(].*//' |
		grep -E '^linux-(headers-.*-common|kbuild-.*)$' || true); do
		case $dep in
		*-common) fetch "$dep" all "$ver" ;; # (an architecture-independent package)
		*) fetch "$dep" "$host" "$ver" ;;
		esac
		debs+=("$DEB")
	done
	[ ${#debs[@]} = 3 ] || die "linux-headers-$rel=$ver: want it, its -common and a linux-kbuild package, found ${debs[*]}"
	log "extracting linux-headers-$rel ($ver)"
	tmp=$(mktemp -d "$SCRATCH/headers.XXXXXX")
	for d in "${debs[@]}"; do dpkg-deb -x "$d" "$tmp/x"; done
	# usr/src and usr/lib only: not usr/share's docs, not lib/modules' links.
	mkdir -p "$tmp/out/usr"
	mv "$tmp/x/usr/src" "$tmp/x/usr/lib" "$tmp/out/usr/"
	while IFS= read -r l; do
		ln -sfn "$(realpath -m --relative-to="$(dirname "$l")" "$tmp/out$(readlink "$l")")" "$l"
	done < <(find "$tmp/out" -type l -lname '/*')
	while IFS= read -r l; do
		sed -i "s|^include /usr/src/|include $out/usr/src/|" "$l"
	done < <(grep -rlE --include=Makefile '^include /usr/src/' "$tmp/out/usr/src" || true)
	[ -f "$tmp/out/usr/src/linux-headers-$rel/.config" ] || die "linux-headers-$rel=$ver has no .config"
	echo "$HEADERS_RECIPE $ver" >"$tmp/out/recipe"
	replace "$out" "$tmp/out"
	rm -rf "$tmp"
}

# make_module SRC NAME KDIR TMP: builds NAME.ko from SRC/ (Kbuild, Makefile,
# NAME.c) in TMP/src against KDIR's headers (headers), cross-compiled for
# an arm64 kernel, and checks that it has DWARF, was built for the kernel's
# release, and by the GCC release that built the kernel
# (CONFIG_CC_VERSION_TEXT; Debian's cross compiler may be another Debian
# revision of it, which the log line says). The headers' paths in its DWARF
# are mapped back to /usr/src, where an installed linux-headers has them.
make_module() {
	local src=$1 name=$2 kdir=$3 tmp=$4 rel cross= cc want got args=()
	rel=$(cat "$kdir/release")
	headers "$kdir"
	case ${rel##*-} in
	"$(dpkg --print-architecture)") ;;
	arm64) cross=aarch64-linux-gnu- args=(ARCH=arm64 CROSS_COMPILE=$cross) ;;
	*) die "make_module: no cross compiler for $rel" ;;
	esac
	# The kernel's compiler ("gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0",
	# maybe named x86_64-linux-gnu-gcc-12), and ours of the same name.
	want=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\(.*\)"$/\1/p' "$HDIR/.config")
	cc=${want%% *}
	[ -z "$cross" ] || cc=$cross${cc##*-linux-gnu-}
	got=$("$cc" --version 2>/dev/null | head -1) || die "no $cc to build $name.ko for $rel"
	[ "${got##* }" = "${want##* }" ] || die "$cc is GCC ${got##* }; $rel was built by $want"
	log "building $name.ko for $rel with $got (the kernel's: $want)"
	mkdir "$tmp/src"
	cp "$src/Kbuild" "$src/Makefile" "$src/$name.c" "$tmp/src/"
	make -C "$HDIR" M="$tmp/src" "${args[@]}" KCFLAGS="-fdebug-prefix-map=$kdir/headers/usr/src/=/usr/src/" modules \
		>"$tmp/build.log" 2>&1 || die "building $name.ko: $(tail -5 "$tmp/build.log")"
	readelf -S "$tmp/src/$name.ko" | grep -q '\.debug_info' || die "$name.ko has no DWARF"
	[ "$(tr '\0' '\n' <"$tmp/src/$name.ko" | sed -n 's/^vermagic=\([^ ]*\).*/\1/p' | head -1)" = "$rel" ] ||
		die "$name.ko was not built for $rel"
}

# build_test_module KDIR: KDIR/testmod/ with gocrash_test.ko (full DWARF;
# BTF only where the headers carry the kernel's BTF, 6.12), built from
# module/ against the kernel's linux-headers; rebuilt when module_recipe
# changes.
build_test_module() {
	local kdir=$1 out tmp recipe
	out="$kdir/testmod" recipe=$(module_recipe)
	[ "$(cat "$out/recipe" 2>/dev/null)" = "$recipe" ] && [ -f "$out/$TESTMOD.ko" ] && return 0
	tmp=$(mktemp -d "$SCRATCH/testmod.XXXXXX")
	make_module "$HERE/module" "$TESTMOD" "$kdir" "$tmp"
	mkdir "$tmp/out"
	cp "$tmp/src/$TESTMOD.ko" "$tmp/src/$TESTMOD.c" "$tmp/out/"
	echo "$recipe" >"$tmp/out/recipe"
	chmod 644 "$tmp/out"/*
	replace "$out" "$tmp/out"
	rm -rf "$tmp"
}

# crashdev_recipe: a digest of the /dev/crash test driver's source
# (crashdev/); KDIR/testmod/crashdev.recipe records the one its .ko was built
# from. It is a digest of its own, not part of module_recipe: no run loads
# the driver, so editing it rebuilds the driver alone.
crashdev_recipe() {
	(cd "$HERE/crashdev" && cat Kbuild Makefile "$CRASHDEV.c") | sha256sum | cut -c1-16
}

# build_crashdev KDIR: gocrash_crashdev.ko (the corpus's own /dev/crash, for
# the live-guest test) and its source in KDIR/testmod/, beside the test
# module (build_test_module first: a rebuilt testmod/ drops it, and this
# puts it back). Each file is renamed into place, crashdev.recipe last.
build_crashdev() {
	local kdir=$1 out tmp recipe f
	out="$kdir/testmod" recipe=$(crashdev_recipe)
	[ "$(cat "$out/crashdev.recipe" 2>/dev/null)" = "$recipe" ] && [ -f "$out/$CRASHDEV.ko" ] && return 0
	[ -d "$out" ] || die "$out is missing: build_test_module makes it"
	tmp=$(mktemp -d "$SCRATCH/crashdev.XXXXXX")
	make_module "$HERE/crashdev" "$CRASHDEV" "$kdir" "$tmp"
	rm -f "$out/crashdev.recipe"
	for f in "$CRASHDEV.ko" "$CRASHDEV.c"; do
		cp "$tmp/src/$f" "$tmp/$f"
		chmod 644 "$tmp/$f"
		mv "$tmp/$f" "$out/$f"
	done
	echo "$recipe" >"$tmp/crashdev.recipe"
	chmod 644 "$tmp/crashdev.recipe"
	mv "$tmp/crashdev.recipe" "$out/crashdev.recipe"
	rm -rf "$tmp"
}

# ---- initramfs -----------------------------------------------------------

# ipcmk KDIR: the path of the guest helper that makes SysV IPC objects
# (testdata/corpus/ipcmk), built once per build for KDIR's architecture: a
# static Go program, so one host toolchain builds it for every guest.
ipcmk() {
	local goarch
	case $(basename "$1") in
	x86_64-*) goarch=amd64 ;;
	arm64-*) goarch=arm64 ;;
	ppc64le-*) goarch=ppc64le ;;
	s390x-*) goarch=s390x ;;
	*) die "ipcmk: no Go architecture for $1" ;;
	esac
	local out="$SCRATCH/ipcmk-$goarch"
	if [ ! -x "$out" ]; then
		(cd "$HERE/../.." && CGO_ENABLED=0 GOARCH=$goarch GOFLAGS=-mod=mod "${GO:-go}" build -trimpath -ldflags=-s \
			-o "$out" ./testdata/corpus/ipcmk) >&2 || die "ipcmk: go build for $goarch failed"
	fi
	echo "$out"
}

# initramfs OUT BUSYBOX KDIR MODULES... [--kdump CAPTURE] [--testmod KO]: a
# gzipped cpio of busybox, /init (init.sh) and MODULES (with /modules/order,
# dependencies first); with --kdump also kexec and its libraries, the kernel
# at /boot/vmlinuz and the capture initramfs CAPTURE at /boot/capture.gz;
# with --testmod the test module KO, loaded last.
initramfs() {
	local out=$1 busybox=$2 kdir=$3 d m capture= testmod=
	shift 3
	local mods=()
	while [ $# -gt 0 ]; do
		case $1 in
		--kdump) capture=$2; shift 2 ;;
		--testmod) testmod=$2; shift 2 ;;
		*) mods+=("$1"); shift ;;
		esac
	done
	d=$(mktemp -d "$SCRATCH/initramfs.XXXXXX")
	mkdir -p "$d/bin" "$d/modules" "$d/boot"
	cp "$busybox" "$d/bin/busybox"
	cp "$HERE/init.sh" "$d/init"
	chmod 755 "$d/init"
	if [ "${mods[*]}" != "${CAPTURE_MODULES[*]}" ]; then # a workload's initramfs
		cp "$(ipcmk "$kdir")" "$d/bin/ipcmk"
	fi
	mod_order "$kdir" "${mods[@]}" >"$d/modules/order"
	while read -r m; do cp "$kdir/modules/$m.ko" "$d/modules/"; done <"$d/modules/order"
	if [ -n "$testmod" ]; then
		cp "$testmod" "$d/modules/"
		basename "$testmod" .ko >>"$d/modules/order"
	fi
	if [ -n "$capture" ]; then
		cp "$kdir/vmlinuz" "$d/boot/vmlinuz"
		cp "$capture" "$d/boot/capture.gz"
		local kexec lib
		kexec=$(command -v kexec || echo /usr/sbin/kexec)
		mkdir -p "$d/usr/sbin"
		cp "$kexec" "$d/usr/sbin/kexec"
		ln -s ../usr/sbin/kexec "$d/bin/kexec"
		# kexec is dynamically linked: its libraries and the loader.
		for lib in $(ldd "$kexec" | grep -o '/[^ ]*'); do
			mkdir -p "$d$(dirname "$lib")"
			cp -L "$lib" "$d$lib"
		done
	fi
	(cd "$d" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
	rm -rf "$d"
}

# ---- checks --------------------------------------------------------------

# check_console FILE CPUS [CRASH [ARCH]]: the crashed kernel's console (up
# to a second kernel's "Linux version") holds every marker in order, the
# crash's report (CRASH_REPORT[ARCH/CRASH] or CRASH_REPORT[CRASH], default
# sysrq's panic), and the workload's tasks in their states (with a crash
# kind, also the test module and its sleeping kthread); prints what is
# wrong, if anything.
check_console() {
	local crash=${3:-sysrq} arch=${4:-x86_64} mods=("${WORKLOAD_MODULES[@]}")
	[ "$crash" = sysrq ] || mods+=("$TESTMOD")
	local report=${CRASH_REPORT[$arch/$crash]:-${CRASH_REPORT[$crash]}}
	awk -v cpus="$2" -v mods="${mods[*]}" -v report="$report" -v crash="$crash" '
	BEGIN {
		n = split("BEGIN uname|END uname|BEGIN nproc|END nproc|BEGIN ps|END ps|BEGIN modules|END modules|BEGIN sysrq-t|END sysrq-t|BEGIN crash", want, "|")
		i = 1
	}
	/^\[ *[0-9]+\.[0-9]+\] / {
		text = $0; sub(/^\[ *[0-9]+\.[0-9]+\] /, "", text); sub(/\r$/, "", text)
		if (text ~ /^Linux version /) { if (++boots > 1) exit }
		if (i <= n && text == "@@GOCRASH-" want[i] "@@") { i++; next }
		if (i > n && text ~ report) panic = 1
		if (want[i] == "END sysrq-t" && text ~ /^task:/) tasks++
		if (text ~ /^@@GOCRASH uname: /) uname++
		if (text ~ /^@@GOCRASH nproc: /) { nproc = text; sub(/^@@GOCRASH nproc: /, "", nproc) }
		if (text ~ /^@@GOCRASH modules: /) { split(text, f, " "); have[f[3]] = 1 }
		if (text ~ /^@@GOCRASH ps: /) {
			split(text, f, " ") # f[3] pid, f[4] ppid, f[5] stat, f[8] comm
			if (f[4] == 2) kthreads++
			if (f[8] == "renamed-task") renamed = 1
			if (f[5] ~ /^T/ && f[8] == "sleep") stopped = 1
			if (f[5] ~ /^Z/) zombie = 1
			if (f[5] ~ /^R/ && f[8] == "sh") busy = 1
			if (f[5] ~ /^S/ && f[8] == "cat") fifo = 1
			if (f[8] == "gocrash_sleep" || f[8] == "[gocrash_sleep]") sleeper = 1
			if (f[8] == "fdholder") fdholder = 1
		}
		if (text ~ /^@@GOCRASH meminfo: MemTotal:/) meminfo = 1
		if (text ~ /^@@GOCRASH ipcs: +26467 +[0-9]+ +600 +65536 /) ipcs = 1
		if (text ~ /^@@GOCRASH fd-[0-9]+: .* 3 -> \/init$/) fds = 1
	}
	END {
		if (boots == 0) { print "no kernel boot"; exit }
		if (i <= n) { print "marker @@GOCRASH-" want[i] "@@ missing or out of order"; exit }
		if (!panic) { print "no line matching \"" report "\" after the crash marker"; exit }
		if (crash != "sysrq" && !sleeper) { print "ps shows no [gocrash_sleep] kthread"; exit }
		if (uname != 5) { print "uname section has " uname " lines, want 5"; exit }
		if (nproc != cpus) { print "nproc says " nproc ", want " cpus; exit }
		if (!kthreads) { print "ps shows no kernel threads"; exit }
		if (!renamed) { print "ps shows no renamed-task"; exit }
		if (!stopped) { print "ps shows no stopped (T) sleep"; exit }
		if (!zombie) { print "ps shows no zombie (Z)"; exit }
		if (!busy) { print "ps shows no running (R) busy loop"; exit }
		if (!fifo) { print "ps shows no sleeping cat on the fifo"; exit }
		if (!fdholder) { print "ps shows no fdholder"; exit }
		if (!fds) { print "no fd section shows fd 3 -> /init"; exit }
		if (!meminfo) { print "no meminfo section"; exit }
		if (!ipcs) { print "/proc/sysvipc/shm shows no segment 0x6763"; exit }
		m = split(mods, mm, " ")
		for (k = 1; k <= m; k++) if (!(mm[k] in have)) { print "/proc/modules lacks " mm[k]; exit }
		if (tasks < 20) { print "sysrq-t printed " tasks+0 " tasks"; exit }
	}' "$1"
}

# magic FILE: the format its first bytes say: elf, kdump or flattened.
magic() {
	local h
	h=$(head -c 12 "$1" | tr -d '\0')
	case $h in
	$'\x7f'ELF*) echo elf ;;
	"KDUMP   "*) echo kdump ;;
	makedumpfile) echo flattened ;;
	*) echo unknown ;;
	esac
}

# elf_end FILE: max(p_offset + p_filesz) over the program headers, the
# size of an ELF core with no section headers after its segments.
elf_end() {
	local end=0 off size
	while read -r off size; do
		if ((off + size > end)); then end=$((off + size)); fi
	done < <(readelf -lW "$1" | awk '$1 == "LOAD" || $1 == "NOTE" { print $2, $5 }')
	echo "$end"
}

# check_dumps DIR FILE FORMAT...: each file is non-empty and has the format.
check_dumps() {
	local dir=$1 f fmt got
	shift
	while [ $# -gt 0 ]; do
		f=$1 fmt=$2; shift 2
		[ -s "$dir/$f" ] || die "$dir/$f is missing or empty"
		got=$(magic "$dir/$f")
		[ "$got" = "$fmt" ] || die "$dir/$f: format $got, want $fmt"
	done
}

# ---- runs ----------------------------------------------------------------

run_ok() { grep -q "\"recipe\":$RUN_RECIPE," "$1/manifest.json" 2>/dev/null; }

# manifest DIR NAME ARCH REL VER METHOD CPUS MEM KDIR VMCOREINFO DUMPS-JSON [CRASH]
# CRASH: how the kernel crashed (sysrq, or a test module kind); a crash-kind
# run also records its recipes and the module file it keeps.
manifest() {
	local crash=${12:-sysrq} extra=
	[ "$crash" = sysrq ] ||
		extra="\"crash_recipe\":$CRASH_RECIPE,\"module_recipe\":\"$(module_recipe)\",\"modules\":[\"$TESTMOD.ko\"],"
	cat >"$1/manifest.json" <<JSON
{"recipe":$RUN_RECIPE,"crash":"$crash",$extra"vmcoreinfo":${10},"name":"$2","arch":"$3","release":"$4","package_version":"$5",
 "method":"$6","cpus":$7,"memory_mib":$8,"vmlinux":"../../kernels/$(basename "$9")/vmlinux",
 "dumps":[${11}]}
JSON
}

# wait_console FILE PATTERN SECONDS PID: waits until the console shows
# PATTERN; fails if QEMU exits or time runs out.
wait_console() {
	local n=0
	while ! grep -aq "$2" "$1" 2>/dev/null; do
		kill -0 "$4" 2>/dev/null || return 1
		[ $n -lt $(($3 * 5)) ] || return 1
		sleep 0.2
		n=$((n + 1))
	done
}

# hmp SOCKET TRANSCRIPT COMMAND: runs one HMP command and returns when it
# has finished: HMP runs commands one after another (dump-guest-memory
# without -d blocks the monitor until the file is written), so the reply
# to a trailing 'info status' marks the end. Fails if QEMU printed an error.
hmp() {
	local sock=$1 transcript=$2 cmd=$3 line done=1 err=0
	coproc MON { exec timeout 300 socat - "UNIX-CONNECT:$sock"; }
	printf '%s\ninfo status\n' "$cmd" >&"${MON[1]}"
	while IFS= read -r -t 300 line <&"${MON[0]}"; do
		printf '%s\n' "$line" >>"$transcript"
		case $line in
		*"VM status"*) done=0; break ;;
		*rror*) err=1 ;;
		esac
	done
	kill "$MON_PID" 2>/dev/null || true
	wait "$MON_PID" 2>/dev/null || true
	[ $done = 0 ] && [ $err = 0 ]
}

# crash_ok DIR: a crash-kind run made by this CRASH_RECIPE from this test
# module source.
crash_ok() {
	grep -q "\"crash_recipe\":$CRASH_RECIPE,\"module_recipe\":\"$(module_recipe)\"," "$1/manifest.json" 2>/dev/null
}

# run_kdump KDIR [VARIANT CPU [CRASH]]: the x86_64 kdump run and
# makedumpfile's conversions. VARIANT (e.g. "la57") names a run on QEMU CPU
# model CPU. CRASH (default sysrq) is how the guest crashes: a kind of
# CRASH_KINDS loads the test module (KDIR/testmod) and crashes through it.
# MAKEDUMPFILE (default: the machine's) is the makedumpfile to convert with.
# A variant that needs more (build-busy.sh) sets, for its call only:
# RUN_DIR (under ROOT, default dumps), RUN_MODULES (more workload modules),
# RUN_QEMU (QEMU arguments replacing -nic none), RUN_APPEND (kernel command
# line words), RUN_OVERLAY (FILE:DEST pairs added to the workload's
# initramfs), RUN_CHECK (a command given the console log, printing what is
# wrong) and RUN_TAG (a JSON member its manifest must hold).
MAKEDUMPFILE=
run_kdump() {
	local kdir=$1 variant=${2:+-$2} cpu=${3:-qemu64} crash=${4:-sysrq} rel ver name out tmp
	rel=$(cat "$kdir/release"); ver=$(cat "$kdir/version")
	name="x86_64-$rel-$ver-kdump$variant"; out="$ROOT/${RUN_DIR:-dumps}/$name"
	run_ok "$out" && { [ -z "${RUN_TAG:-}" ] || grep -qF "$RUN_TAG" "$out/manifest.json"; } &&
		{ [ "$crash" = sysrq ] || crash_ok "$out"; } && { log "$name: present"; return 0; }
	tmp=$(mktemp -d "$SCRATCH/run.XXXXXX")
	log "$name: booting (crash: $crash, then the capture kernel copies /proc/vmcore)"
	local testmod=()
	if [ "$crash" != sysrq ]; then
		testmod=(--testmod "$kdir/testmod/$TESTMOD.ko")
		cp "$kdir/testmod/$TESTMOD.ko" "$tmp/"
	fi
	initramfs "$tmp/capture.gz" /bin/busybox "$kdir" "${CAPTURE_MODULES[@]}"
	# shellcheck disable=SC2086 # (RUN_MODULES and RUN_OVERLAY are word lists)
	initramfs "$tmp/initrd.gz" /bin/busybox "$kdir" "${WORKLOAD_MODULES[@]}" ${RUN_MODULES:-} --kdump "$tmp/capture.gz" "${testmod[@]}"
	# shellcheck disable=SC2086
	[ -z "${RUN_OVERLAY:-}" ] || overlay "$tmp/initrd.gz" $RUN_OVERLAY
	# The capture kernel writes the ELF at the start of this sparse disk.
	truncate -s 1200M "$tmp/disk.raw"
	local t0 pid
	t0=$(date +%s)
	# crashkernel=256M reserves the capture kernel's memory; after sysrq-c
	# the panic kexecs into it (loaded by /init with kexec -p). printk:
	# loglevel=8 puts everything (sysrq-t) on the console, log_buf_len=4M
	# keeps the whole boot and sysrq-t in the crashed kernel's own buffer,
	# printk.devkmsg=on lets /init's ground truth through /dev/kmsg.
	# no_timer_check: on a loaded host, TCG's emulated timer can miss the
	# kernel's IO-APIC timer check, which then panics at boot.
	# (The capture disk comes first: the capture kernel's /dev/vda.)
	# shellcheck disable=SC2086
	timeout 400 qemu-system-x86_64 -cpu "$cpu" -m 1024M -smp 2 -display none -no-reboot \
		-kernel "$kdir/vmlinuz" -initrd "$tmp/initrd.gz" \
		-append "console=ttyS0 crashkernel=256M loglevel=8 log_buf_len=4M printk.time=1 printk.devkmsg=on no_timer_check gocrash=kdump gocrash_crash=$crash${RUN_APPEND:+ $RUN_APPEND}" \
		-drive "file=$tmp/disk.raw,format=raw,if=virtio" ${RUN_QEMU:--nic none} -serial "file:$tmp/console.log" -monitor none \
		>"$tmp/qemu.log" 2>&1 &
	# In the background so that a signal to the build is handled at once.
	pid=$!
	PIDS=("$pid")
	wait "$pid" || fail "$name" "$tmp" "QEMU failed or timed out: $(tail -3 "$tmp/qemu.log")"
	PIDS=()
	TIMES+=("$(printf '%4ds  %s' $(($(date +%s) - t0)) "$name: QEMU boot, crash, capture")")
	! grep -aq "@@GOCRASH-KEXEC-FAILED@@" "$tmp/console.log" || fail "$name" "$tmp" "kexec -p failed in the guest"
	grep -aq "@@GOCRASH-VMCORE-COPIED@@" "$tmp/console.log" ||
		fail "$name" "$tmp" "the capture kernel did not copy /proc/vmcore $(grep -a 'GOCRASH-CAPTURE-FAILED' "$tmp/console.log" | tail -1)"
	local problem; problem=$(check_console "$tmp/console.log" 2 "$crash")
	[ -z "$problem" ] || fail "$name" "$tmp" "console.log: $problem"
	[ -z "${RUN_CHECK:-}" ] || problem=$($RUN_CHECK "$tmp/console.log")
	[ -z "$problem" ] || fail "$name" "$tmp" "console.log: $problem"
	# Cut the ELF out of the disk: the guest printed /proc/vmcore's size,
	# which must be where its program headers say it ends.
	local size end
	size=$(sed -n 's/.*@@GOCRASH-VMCORE-SIZE \([0-9]*\)@@.*/\1/p' "$tmp/console.log" | head -1)
	[ "$(magic "$tmp/disk.raw")" = elf ] || die "$name: the capture disk does not start with an ELF header"
	end=$(elf_end "$tmp/disk.raw")
	[ -n "$size" ] && [ "$size" = "$end" ] || die "$name: /proc/vmcore was $size bytes, its ELF ends at $end"
	truncate -s "$size" "$tmp/disk.raw"
	mv "$tmp/disk.raw" "$tmp/vmcore"
	readelf -lW "$tmp/vmcore" | grep -q '^ *LOAD' || die "$name: vmcore has no PT_LOAD"
	rm -f "$tmp/initrd.gz" "$tmp/capture.gz" "$tmp/qemu.log"
	timed "$name: makedumpfile conversions" mkdumps "$tmp"
	check_dumps "$tmp" vmcore elf vmcore.zlib kdump vmcore.lzo kdump vmcore.elf31 elf vmcore.flat flattened \
		vmcore.split1 kdump vmcore.split2 kdump
	# (which makedumpfile, where it is not the machine's)
	local m=makedumpfile
	[ -z "$MAKEDUMPFILE" ] || m="makedumpfile $("$MAKEDUMPFILE" -v 2>&1 | sed -n 's/^makedumpfile: version \([^ ]*\).*/\1/p')"
	manifest "$tmp" "$name" x86_64 "$rel" "$ver" kdump 2 1024 "$kdir" true \
"{\"file\":\"vmcore\",\"format\":\"elf\",\"filtered\":false,\"how\":\"kdump capture kernel copy of /proc/vmcore\"},
  {\"file\":\"vmcore.zlib\",\"format\":\"kdump\",\"filtered\":true,\"how\":\"$m -c -d 31\"},
  {\"file\":\"vmcore.lzo\",\"format\":\"kdump\",\"filtered\":true,\"how\":\"$m -l -d 31\"},
  {\"file\":\"vmcore.elf31\",\"format\":\"elf\",\"filtered\":true,\"how\":\"$m -E -d 31\"},
  {\"file\":\"vmcore.flat\",\"format\":\"flattened\",\"filtered\":true,\"how\":\"$m -F -c -d 31\"},
  {\"file\":\"vmcore.split1\",\"parts\":[\"vmcore.split1\",\"vmcore.split2\"],\"format\":\"kdump\",\"filtered\":true,\"how\":\"$m --split -c -d 31\"}" \
		"$crash"
	[ -z "${RUN_TAG:-}" ] || sed -i "1s/^{/{$RUN_TAG,/" "$tmp/manifest.json"
	chmod 644 "$tmp"/*
	mkdir -p "$(dirname "$out")"
	replace "$out" "$tmp"
	log "$name: done ($(du -sh "$out" | cut -f1))"
}

# mkdumps DIR: makedumpfile's conversions of DIR/vmcore (each takes ~1 s).
mkdumps() {
	local d=$1 mdfbin=${MAKEDUMPFILE:-makedumpfile}
	mdf() { "$mdfbin" "$@" >>"$d/makedumpfile.log" 2>&1 || die "makedumpfile $* failed: $(tail -3 "$d/makedumpfile.log")"; }
	mdf -c -d 31 "$d/vmcore" "$d/vmcore.zlib"
	mdf -l -d 31 "$d/vmcore" "$d/vmcore.lzo"
	mdf -E -d 31 "$d/vmcore" "$d/vmcore.elf31"
	"$mdfbin" -F -c -d 31 "$d/vmcore" >"$d/vmcore.flat" 2>>"$d/makedumpfile.log" ||
		die "makedumpfile -F failed: $(tail -3 "$d/makedumpfile.log")"
	# A split dump too: memory/ reads dumps spread over several files.
	mdf --split -c -d 31 "$d/vmcore" "$d/vmcore.split1" "$d/vmcore.split2"
	rm -f "$d/makedumpfile.log"
}

# run_qemu ARCH KDIR BUSYBOX [VARIANT CPU VMCOREINFO [CRASH]]: a guest
# crashed and dumped by QEMU's dump-guest-memory. VARIANT names a run on CPU
# model CPU (empty: the default), with the vmcoreinfo device unless
# VMCOREINFO is "no". CRASH (default sysrq) is how the guest crashes, as
# for run_kdump: a kind loads the test module and sets panic_on_oops and
# the kind's sysctls; with no capture kernel loaded the kernel then goes on
# to panic() and waits there (panic=0), on the CPU that crashed, for QEMU
# to dump it.
run_qemu() {
	local arch=$1 kdir=$2 busybox=$3 variant=${4:+-$4} cpu=${5:-} vmci=${6:-yes} crash=${7:-sysrq}
	local rel ver name out tmp qemu console
	rel=$(cat "$kdir/release"); ver=$(cat "$kdir/version")
	name="$arch-$rel-$ver-qemu$variant"; out="$ROOT/dumps/$name"
	run_ok "$out" && { [ "$crash" = sysrq ] || crash_ok "$out"; } && { log "$name: present"; return 0; }
	tmp=$(mktemp -d "$SCRATCH/run.XXXXXX")
	log "$name: booting (crash: $crash, then QEMU dumps)"
	local testmod=()
	if [ "$crash" != sysrq ]; then
		testmod=(--testmod "$kdir/testmod/$TESTMOD.ko")
		cp "$kdir/testmod/$TESTMOD.ko" "$tmp/"
	fi
	initramfs "$tmp/initrd.gz" "$busybox" "$kdir" "${WORKLOAD_MODULES[@]}" "${testmod[@]}"
	case $arch in
	x86_64) qemu=(qemu-system-x86_64 -cpu "${cpu:-qemu64}"); console="ttyS0 no_timer_check" ;; # (see run_kdump)
	arm64) qemu=(qemu-system-aarch64 -M virt -cpu "${cpu:-max}"); console=ttyAMA0 ;;
	esac
	# -device vmcoreinfo: the guest's qemu_fw_cfg tells QEMU where its
	# VMCOREINFO is, and QEMU writes it into the dumps.
	[ "$vmci" = no ] || qemu+=(-device vmcoreinfo)
	# Unix socket paths must be short (108 bytes): not under ROOT.
	local sock
	MONDIR=$(mktemp -d /tmp/gocrash-mon.XXXXXX)
	sock="$MONDIR/mon.sock"
	local t0=$(date +%s)
	# panic=0: after the panic the guest waits for the host to dump it.
	"${qemu[@]}" -m 512M -smp 2 -display none -no-reboot -nic none \
		-kernel "$kdir/vmlinuz" -initrd "$tmp/initrd.gz" \
		-append "console=$console loglevel=8 log_buf_len=4M printk.time=1 printk.devkmsg=on panic=0 gocrash=qemu gocrash_crash=$crash" \
		-serial "file:$tmp/console.log" -monitor "unix:$sock,server,nowait" \
		>"$tmp/qemu.log" 2>&1 &
	local pid=$!
	PIDS=("$pid")
	wait_console "$tmp/console.log" "end Kernel panic - not syncing" 300 $pid ||
		{ fail "$name" "$tmp" "the guest did not panic: $(tail -3 "$tmp/qemu.log")"; }
	TIMES+=("$(printf '%4ds  %s' $(($(date +%s) - t0)) "$name: QEMU boot to panic")")
	# 'stop' first: both dumps then hold the same memory, byte for byte.
	local mon="$tmp/monitor.log" files
	log "$name: dump-guest-memory"
	hmp "$sock" "$mon" stop || die "$name: QEMU monitor: $(tail -3 "$mon")"
	timed "$name: dump-guest-memory (ELF)" hmp "$sock" "$mon" "dump-guest-memory $tmp/vmcore.elf" ||
		die "$name: dump-guest-memory failed: $(grep -a rror "$mon" | tail -1)"
	files=(vmcore.elf elf)
	local json='{"file":"vmcore.elf","format":"elf","filtered":false,"how":"QEMU dump-guest-memory"}'
	if timed "$name: dump-guest-memory -z" hmp "$sock" "$mon" "dump-guest-memory -z $tmp/vmcore.kdump-zlib"; then
		# QEMU 7.2 writes its kdump-compressed file in makedumpfile's
		# flattened format (QEMU 8.2 added -R for the plain one): the
		# manifest says what the file is. QEMU leaves zero pages out (dump
		# level 1), so it is "filtered".
		local fmt; fmt=$(magic "$tmp/vmcore.kdump-zlib")
		files+=(vmcore.kdump-zlib "$fmt")
		json+=",
  {\"file\":\"vmcore.kdump-zlib\",\"format\":\"$fmt\",\"filtered\":true,\"how\":\"QEMU dump-guest-memory -z ($fmt kdump-compressed, zlib, dump level 1)\"}"
	elif [ "$arch" = arm64 ]; then
		# Older QEMUs cannot write arm64 kdump files: the ELF must do.
		log "$name: dump-guest-memory -z failed on arm64; keeping the ELF only"
		rm -f "$tmp/vmcore.kdump-zlib"
	else
		die "$name: dump-guest-memory -z failed: $(grep -a rror "$mon" | tail -1)"
	fi
	echo quit | socat - "UNIX-CONNECT:$sock" >/dev/null 2>&1 || true
	local n=0
	while kill -0 "$pid" 2>/dev/null && [ $n -lt 50 ]; do sleep 0.2; n=$((n + 1)); done
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	PIDS=()
	rm -rf "$MONDIR"
	MONDIR=
	local problem; problem=$(check_console "$tmp/console.log" 2 "$crash" "$arch")
	[ -z "$problem" ] || fail "$name" "$tmp" "console.log: $problem"
	check_dumps "$tmp" "${files[@]}"
	rm -f "$tmp/initrd.gz" "$tmp/qemu.log" "$mon"
	local hasvmci=true; [ "$vmci" = no ] && hasvmci=false
	manifest "$tmp" "$name" "$arch" "$rel" "$ver" qemu 2 512 "$kdir" "$hasvmci" "$json" "$crash"
	chmod 644 "$tmp"/*
	replace "$out" "$tmp"
	log "$name: done ($(du -sh "$out" | cut -f1))"
}

# ---- main ----------------------------------------------------------------

# The kernels: DEBARCH METAPACKAGE [SUITE]: SUITE, another Debian release,
# is looked up through a private apt state (see aptx). Debian 12's 6.12 and
# Debian 11's 5.10 are optional: skipped with a warning where apt does not
# offer them.
KERNELS=("amd64 linux-image-cloud-amd64" "arm64 linux-image-cloud-arm64" "amd64 linux-image-6.12-cloud-amd64"
	"amd64 linux-image-cloud-amd64 bullseye")
REQUIRED_KERNELS=2 # the first two

# resolve_all: KDIRS[i], RELS[i], VERS[i] for KERNELS[i] (KDIRS[i] empty:
# unavailable and optional).
# Refreshes the package lists first when apt cannot name a kernel or a
# kernel must be extracted from a package not yet in debs/ (so that what is
# downloaded is what the mirror serves now); a finished corpus needs neither.
resolve_all() {
	local pass i debarch meta suite refresh
	for pass in 1 2; do
		refresh=
		KDIRS=() RELS=() VERS=()
		apt_lookup
		for i in "${!KERNELS[@]}"; do
			read -r debarch meta suite <<<"${KERNELS[$i]}"
			if ! resolve_kernel "$debarch" "$meta" "${suite:--}"; then
				# (An optional kernel apt lacks is no reason to refresh.)
				[ "$i" -ge "$REQUIRED_KERNELS" ] || refresh=1
				KDIRS[$i]=
				continue
			fi
			KDIRS[$i]=$(kernel_dir "$debarch" "$REL" "$VER") RELS[$i]=$REL VERS[$i]=$VER
			if ! kernel_ok "${KDIRS[$i]}" &&
				{ [ -z "$(deb_path "linux-image-$REL-unsigned" "$debarch" "$VER")" ] ||
					[ -z "$(deb_path "linux-image-$REL-dbg" "$debarch" "$VER")" ]; }; then
				refresh=1
			fi
		done
		[ -n "$refresh" ] && [ -z "$APT_UPDATED" ] && [ $pass = 1 ] || break
		apt_update
	done
	for i in "${!KERNELS[@]}"; do
		[ -z "${KDIRS[$i]}" ] || continue
		read -r debarch meta suite <<<"${KERNELS[$i]}"
		[ "$i" -lt "$REQUIRED_KERNELS" ] || { log "warning: apt offers no $meta:$debarch${suite:+ ($suite)}; skipping that kernel"; continue; }
		die "cannot resolve the kernel of $meta:$debarch${GOCRASH_KERNEL_ABI:+ (ABI $GOCRASH_KERNEL_ABI)}"
	done
}

# old_filter_dump: a damaged dump for the robustness tests: one 6.12 run's
# raw vmcore filtered by the machine's own makedumpfile (Debian 12's 1.7.2,
# which predates 6.12's page types: with -d 31 it drops live slab pages,
# task_structs among them), kept beside that run's dumps as vmcore.mdf172.
# It is not in the run's manifest (the run's own files stay the filter that
# is right); internal/corpus's OldFilterDump finds it. Made only when missing
# (~1-5 s), never by rebuilding the run.
OLD_FILTER_RUN_KIND=oops
old_filter_dump() {
	local kdir=$1 rel ver run out tmp
	rel=$(cat "$kdir/release"); ver=$(cat "$kdir/version")
	run="$ROOT/dumps/x86_64-$rel-$ver-kdump-$OLD_FILTER_RUN_KIND"; out="$run/vmcore.mdf172"
	[ -f "$run/vmcore" ] || { log "warning: $run/vmcore missing; no vmcore.mdf172"; return 0; }
	[ -s "$out" ] && return 0
	tmp=$(mktemp "$SCRATCH/mdf172.XXXXXX")
	makedumpfile -c -d 31 -f "$run/vmcore" "$tmp" >"$tmp.log" 2>&1 ||
		die "makedumpfile 1.7.2 -c -d 31 of $run/vmcore failed: $(tail -3 "$tmp.log")"
	rm -f "$tmp.log"
	chmod 644 "$tmp"
	mv "$tmp" "$out"
	log "$(basename "$run"): vmcore.mdf172 made ($(makedumpfile -v 2>&1 | head -1 | cut -d' ' -f3) -c -d 31)"
}

main() {
	setup_root
	timed "tools" ensure_tools
	resolve_all
	local i debarch meta suite
	for i in "${!KERNELS[@]}"; do
		[ -n "${KDIRS[$i]}" ] || continue
		read -r debarch meta suite <<<"${KERNELS[$i]}"
		kernel_ok "${KDIRS[$i]}" && continue
		timed "kernel $(basename "${KDIRS[$i]}")" extract_kernel "$debarch" "${RELS[$i]}" "${VERS[$i]}" "${suite:--}"
	done
	timed "busybox arm64" busybox_arm64
	local x86=${KDIRS[0]} arm=${KDIRS[1]} x86new=${KDIRS[2]} x86old=${KDIRS[3]}
	# The three runs of the contract...
	timed "run x86_64 kdump" run_kdump "$x86"
	timed "run x86_64 qemu" run_qemu x86_64 "$x86" /bin/busybox
	timed "run arm64 qemu" run_qemu arm64 "$arm" "$ROOT/kernels/busybox-arm64"
	# ...and variants the tests use: 5-level paging (kdump and QEMU), a
	# QEMU dump without VMCOREINFO (page tables and KASLR found from the CPU
	# state QEMU records), and Debian 12's 6.12 kernel.
	timed "run x86_64 kdump la57" run_kdump "$x86" la57 qemu64,+la57
	timed "run x86_64 qemu la57-novmcoreinfo" run_qemu x86_64 "$x86" /bin/busybox la57-novmcoreinfo qemu64,+la57 no
	[ -z "$x86new" ] || timed "run x86_64 6.12 qemu" run_qemu x86_64 "$x86new" /bin/busybox
	# Debian 11's 5.10: the kernel-version differences (task_struct.state,
	# the older ORC and mm layouts) in a real kdump and a QEMU dump.
	if [ -n "$x86old" ]; then
		timed "run x86_64 5.10 kdump" run_kdump "$x86old"
		timed "run x86_64 5.10 qemu" run_qemu x86_64 "$x86old" /bin/busybox
	fi
	# Real crash kinds through the corpus's own test module (built against
	# Debian's linux-headers for each kernel): on x86_64 6.1 and 6.12 one
	# kdump run each, -kdump-<kind>; on arm64 (no kdump under TCG here) one
	# QEMU run each, -qemu-<kind>.
	timed "test module $(basename "$x86")" build_test_module "$x86"
	timed "crash driver $(basename "$x86")" build_crashdev "$x86"
	local kind
	for kind in "${CRASH_KINDS[@]}"; do
		timed "run x86_64 kdump $kind" run_kdump "$x86" "$kind" qemu64 "$kind"
	done
	if [ -n "$x86new" ]; then
		timed "test module $(basename "$x86new")" build_test_module "$x86new"
		newer_makedumpfile
		MAKEDUMPFILE=$MDF_NEWER # 6.12: see newer_makedumpfile
		for kind in "${CRASH_KINDS[@]}"; do
			timed "run x86_64 6.12 kdump $kind" run_kdump "$x86new" "$kind" qemu64 "$kind"
		done
		MAKEDUMPFILE=
		timed "damaged dump (makedumpfile 1.7.2 on 6.12)" old_filter_dump "$x86new"
	fi
	timed "test module $(basename "$arm")" build_test_module "$arm"
	for kind in "${CRASH_KINDS[@]}"; do
		timed "run arm64 qemu $kind" run_qemu arm64 "$arm" "$ROOT/kernels/busybox-arm64" "$kind" "" yes "$kind"
	done
	source "$HERE/build-ppc-s390.sh" && ppc_s390_main # ppc64le and s390x QEMU runs
	source "$HERE/build-large.sh" && large_main "$x86" # the 8 GiB, 5,000-task kdump run (ROOT/large/)
	source "$HERE/build-busy.sh" && busy_main "$x86old" "$x86" # guests with a disk, sockets and neighbours (ROOT/busy/)
	if [ $(($(date +%s) - START)) -ge 10 ]; then # something was built
		log "step times:"
		printf '        %s\n' "${TIMES[@]}" >&2
	fi
	log "corpus ready at $ROOT ($(du -sh "$ROOT" | cut -f1), $(($(date +%s) - START)) s)"
	echo "$ROOT"
}

[ -n "${GOCRASH_CORPUS_LIB:-}" ] || main "$@" # (build-ppc-s390.sh sources the helpers alone)
