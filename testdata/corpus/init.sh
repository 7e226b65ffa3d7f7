#!/bin/busybox sh
# /init of every corpus guest (build.sh puts it in each initramfs). The
# kernel command line's gocrash= says what to do:
#   kdump    load the capture kernel with kexec -p, run the workload, crash;
#   qemu     run the workload, crash, and wait (panic=0): the host dumps the
#            guest with QEMU's dump-guest-memory;
#   capture  kdump's capture kernel: copy /proc/vmcore to the virtio disk
#            and power off.
# gocrash_crash= says how to crash: sysrq (the default: sysrq-c), or a kind
# the corpus's test module gocrash_test offers through /proc/gocrash_test
# (oops, oops-timer, bug, warn, softlockup, hungtask); the module is then in
# /modules, loaded last.
# /modules/order lists the modules to insmod, one name a line, dependencies
# first (build.sh works the order out from each module's depends= field).
/bin/busybox mkdir -p /proc /sys /dev /tmp /bin /sbin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mode=$(sed -n 's/.*gocrash=\([a-z]*\).*/\1/p' /proc/cmdline)
crash=$(sed -n 's/.* gocrash_crash=\([a-z-]*\).*/\1/p' /proc/cmdline)
crash=${crash:-sysrq}
# gocrash_variant=busy: build-busy.sh's guest (a disk, sockets, neighbours).
variant=$(sed -n 's/.* gocrash_variant=\([a-z]*\).*/\1/p' /proc/cmdline)

load_modules() {
	[ -f /modules/order ] || return 0
	while read -r m; do
		insmod "/modules/$m.ko" || echo "@@GOCRASH-INSMOD-FAILED $m@@"
	done < /modules/order
}

# ---- kdump's capture kernel ----------------------------------------------
if [ "$mode" = capture ]; then
	load_modules
	n=0
	while [ ! -b /dev/vda ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
	if [ ! -b /dev/vda ] || [ ! -r /proc/vmcore ]; then
		echo "@@GOCRASH-CAPTURE-FAILED no /dev/vda or /proc/vmcore@@"
		poweroff -f
	fi
	# The host cuts the ELF out of the raw disk at this size (and checks it
	# against the ELF's own end, max(p_offset + p_filesz)).
	size=$(stat -c %s /proc/vmcore)
	echo "@@GOCRASH-VMCORE-SIZE $size@@"
	if dd if=/proc/vmcore of=/dev/vda bs=1M 2>/tmp/dd.err && sync; then
		echo "@@GOCRASH-VMCORE-COPIED@@"
	else
		echo "@@GOCRASH-CAPTURE-FAILED dd: $(cat /tmp/dd.err)@@"
	fi
	poweroff -f
fi

# ---- the crashing kernel -------------------------------------------------
# The ground truth goes to the kernel log through /dev/kmsg (the kernel was
# booted with printk.devkmsg=on so nothing is rate-limited): a kmsg record
# reaches the console whole and in order with the kernel's own lines, and it
# stays in the crashed kernel's log buffer, where a test can find it in the
# dump. Output of a section is written as "@@GOCRASH name: line" records
# (the form internal/corpus parses); section markers also go to the console
# directly with echo, as the corpus contract asks. They are written after the
# kmsg record (so a console reader meets the kmsg marker first) and followed
# by a short pause so that the tty has sent them before the kernel prints
# more: tty output can be cut into by kernel console lines, never the reverse.
kmsg() { echo "$*" > /dev/kmsg; }
mark() {
	kmsg "@@GOCRASH-$1 $2@@"
	echo "@@GOCRASH-$1 $2@@"
	sleep 0.1
}
# section NAME COMMAND: runs COMMAND (a shell string) with its output in a
# file (a pipe would add its reader to ps), then logs each line.
section() {
	mark BEGIN "$1"
	eval "$2" > /tmp/section.out 2>&1
	while IFS= read -r line; do kmsg "@@GOCRASH $1: $line"; done < /tmp/section.out
	mark END "$1"
}

hostname gocrash
load_modules
echo 1 > /proc/sys/kernel/sysrq
if [ "$mode" = kdump ]; then
	if ! kexec -p /boot/vmlinuz --initrd=/boot/capture.gz \
		--append="console=ttyS0 irqpoll nr_cpus=1 reset_devices gocrash=capture" ||
		[ "$(cat /sys/kernel/kexec_crash_loaded)" != 1 ]; then
		# Without a capture kernel the panic would just hang: stop now.
		echo "@@GOCRASH-KEXEC-FAILED@@"
		poweroff -f
	fi
fi

# Things for the memory, file and system commands to find: debugfs (the
# scheduler's debug file), the loopback and dummy0 interfaces up (dummy0 with
# 192.168.76.1/24),
# and SysV IPC objects (keys 0x6763 shm, 0x6764 sem, 0x6765 msg; build.sh's
# own helper, busybox has no ipcmk).
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
ip link set lo up
if [ -e /sys/class/net/dummy0 ]; then # the dummy module's interface
	ip link set dummy0 up
	ip addr add 192.168.76.1/24 dev dummy0
fi
[ -x /bin/ipcmk ] && /bin/ipcmk

# Tasks in known states.
sleep 1000 &                                # S (hrtimer_nanosleep)
tasks=$!
sh -c 'while :; do :; done' &               # R (busy loop)
tasks="$tasks $!"
mkfifo /tmp/fifo
cat /tmp/fifo &                             # S in fifo_open
tasks="$tasks $!"
sleep 1001 &
stopped=$!
tasks="$tasks $!"
sleep 0.2 # let it exec sleep first, so that the stopped task is named sleep
kill -STOP $stopped                         # T
sh -c 'sleep 0 & exec sleep 9999' &         # Z: its child sleep 0, never reaped
tasks="$tasks $!"
# The renamed shell stays alive (it loops), so its comm stays renamed-task;
# its child sleep is named sleep.
sh -c 'echo -n renamed-task > /proc/self/comm; while :; do sleep 1000; done' &
tasks="$tasks $!"
# fdholder: a shell in /tmp (a tmpfs) holding known files open as fds 3, 4
# and 5 (its child sleep inherits them).
echo fdholder > /tmp/fdholder.out
sh -c 'cd /tmp; exec 3</init 4>/tmp/fdholder.out 5<>/dev/null; echo -n fdholder > /proc/self/comm; while :; do sleep 1000; done' &
tasks="$tasks $!"
# The busy guest's disk, network and sockets (build-busy.sh): vdb (the
# capture disk is vda) partitioned, vdb1 an ext2 mounted at /mnt with a
# writer, vdb2 read with direct I/O; eth0 on QEMU's user network with the
# gateway and DNS server as neighbours; the socket holder busy/sockets.c,
# httpd and syslogd, each added to the test tasks (their fd sections).
if [ "$variant" = busy ]; then
	n=0
	while [ ! -b /dev/vdb ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
	printf 'o\nn\np\n1\n\n+48M\nn\np\n2\n\n\nw\n' | fdisk /dev/vdb > /dev/null 2>&1
	n=0
	while [ ! -b /dev/vdb2 ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
	mke2fs -q /dev/vdb1 && mkdir -p /mnt && { mount /dev/vdb1 /mnt || mount -t ext4 /dev/vdb1 /mnt; }
	sh -c 'while :; do dd if=/dev/zero of=/mnt/busy bs=64k count=32 conv=fsync 2>/dev/null; done' &
	tasks="$tasks $!"
	sh -c 'while :; do dd if=/dev/vdb2 of=/dev/null bs=4k count=256 iflag=direct 2>/dev/null; done' &
	tasks="$tasks $!"
	ip link set eth0 up
	ip addr add 10.0.2.15/24 dev eth0
	ip route add default via 10.0.2.2
	ping -c 1 -W 2 10.0.2.2 > /dev/null 2>&1
	ping -c 1 -W 2 10.0.2.3 > /dev/null 2>&1
	/bin/sockets > /tmp/sockets.out 2>&1 &
	tasks="$tasks $!"
	mkdir -p /tmp/www
	httpd -f -p 8080 -h /tmp/www &
	tasks="$tasks $!"
	syslogd -n -O /tmp/messages &
	tasks="$tasks $!"
fi
sleep 1 # let the states settle

section uname '{ uname -a; uname -r; uname -n; uname -v; uname -m; }'
section nproc 'nproc'
section ps 'ps -o pid,ppid,stat,vsz,rss,comm'
section modules 'cat /proc/modules'
# The kernel's own view of memory, files, devices and scheduling, for the
# commands that report them (counters move a little before the crash).
for f in meminfo slabinfo vmallocinfo buddyinfo zoneinfo interrupts devices partitions swaps timer_list; do
	[ -r /proc/$f ] && section $f "cat /proc/$f"
done
section mountinfo 'cat /proc/self/mountinfo'
section netdev 'cat /proc/net/dev'
section ipaddr 'ip addr'
# (busybox has no ipcs: the kernel's own tables, keys in decimal)
section ipcs 'for f in shm sem msg; do echo "== $f"; cat /proc/sysvipc/$f; done'
if [ -r /sys/kernel/debug/sched/debug ]; then
	section sched_debug 'cat /sys/kernel/debug/sched/debug'
elif [ -r /proc/sched_debug ]; then
	section sched_debug 'cat /proc/sched_debug'
fi
if [ "$variant" = busy ]; then
	for f in tcp tcp6 udp udp6 unix arp; do section net-$f "cat /proc/net/$f"; done
	section neigh 'ip neigh'
	section diskstats 'cat /proc/diskstats'
	section inflight 'for f in /sys/block/*/inflight; do echo "${f#/sys/block/} $(cat $f)"; done'
	section busy-sockets 'cat /tmp/sockets.out'
fi
# The test tasks and init itself: their mappings, open files and status.
for p in 1 $tasks; do
	section maps-$p "cat /proc/$p/maps"
	section fd-$p "ls -l /proc/$p/fd"
	section status-$p "cat /proc/$p/status"
done
# sysrq-t prints every task's backtrace through printk, between the markers.
mark BEGIN sysrq-t
echo t > /proc/sysrq-trigger
sleep 2 # let the console catch up before the end marker
mark END sysrq-t
# The crash. A test-module kind is set up to end in kdump (panic_on_oops:
# oops_end calls crash_kexec with the registers at the fault), and is
# triggered from a child process, never from init itself.
case $crash in
sysrq) ;;
warn) echo 1 > /proc/sys/kernel/panic_on_warn ;;
softlockup)
	echo 1 > /proc/sys/kernel/softlockup_panic
	echo 1 > /proc/sys/kernel/watchdog_thresh ;; # a soft lockup after 2 s
hungtask)
	echo 1 > /proc/sys/kernel/hung_task_panic
	echo 1 > /proc/sys/kernel/hung_task_timeout_secs ;;
esac
[ "$crash" = sysrq ] || echo 1 > /proc/sys/kernel/panic_on_oops
mark BEGIN crash
if [ "$crash" = sysrq ]; then
	echo c > /proc/sysrq-trigger
else
	sh -c "echo $crash > /proc/gocrash_test"
fi
sleep 1000
