#!/bin/busybox sh
# /init of the large corpus run (build-large.sh puts it in the initramfs in
# place of init.sh): an 8 GiB, 4-CPU x86_64 guest with thousands of tasks.
# The kernel command line's gocrash= says what to do:
#   kdump    load the capture kernel with kexec -p, start the swarm (swarm/,
#            gocrash_swarm=NPROC,NTHREADS), print the ground truth, crash
#            with sysrq-c;
#   capture  kdump's capture kernel: filter /proc/vmcore with makedumpfile
#            -F -c -d 31 onto the virtio disk (the raw 8 GiB never leaves the
#            guest) and power off.
# The truth is written as init.sh writes it (through /dev/kmsg, "@@GOCRASH
# name: line" records between "@@GOCRASH-BEGIN/END name@@" markers), so
# internal/corpus parses it alike; ps is "ps -T" (every thread, as crash's
# ps lists them). There is no sysrq-t (thousands of backtraces would
# overflow the log buffer) and no per-task sections.
/bin/busybox mkdir -p /proc /sys /dev /tmp /bin /sbin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mode=$(sed -n 's/.*gocrash=\([a-z]*\).*/\1/p' /proc/cmdline)
swarm=$(sed -n 's/.*gocrash_swarm=\([0-9,]*\).*/\1/p' /proc/cmdline)

load_modules() {
	while read -r m; do
		insmod "/modules/$m.ko" || echo "@@GOCRASH-INSMOD-FAILED $m@@"
	done < /modules/order
}

if [ "$mode" = capture ]; then
	load_modules
	n=0
	while [ ! -b /dev/vda ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
	if [ ! -b /dev/vda ] || [ ! -r /proc/vmcore ]; then
		echo "@@GOCRASH-CAPTURE-FAILED no /dev/vda or /proc/vmcore@@"
		poweroff -f
	fi
	echo "@@GOCRASH-VMCORE-SIZE $(stat -c %s /proc/vmcore)@@"
	# The flattened format goes to a pipe (the disk has no file system);
	# the host cuts it at the size wc counted and converts it with -R.
	if { makedumpfile -F -c -d 31 /proc/vmcore 2>/tmp/mdf.err; echo $? > /tmp/mdf.rc; } |
		tee /dev/vda | wc -c > /tmp/flat.size && [ "$(cat /tmp/mdf.rc)" = 0 ] && sync; then
		echo "@@GOCRASH-FLAT-SIZE $(cat /tmp/flat.size)@@"
		echo "@@GOCRASH-VMCORE-COPIED@@"
	else
		echo "@@GOCRASH-CAPTURE-FAILED makedumpfile: $(tail -3 /tmp/mdf.err)@@"
	fi
	poweroff -f
fi

kmsg() { echo "$*" > /dev/kmsg; }
mark() {
	kmsg "@@GOCRASH-$1 $2@@"
	echo "@@GOCRASH-$1 $2@@"
	sleep 0.1
}
section() {
	mark BEGIN "$1"
	eval "$2" > /tmp/section.out 2>&1
	while IFS= read -r line; do kmsg "@@GOCRASH $1: $line"; done < /tmp/section.out
	mark END "$1"
}

hostname gocrash
load_modules
echo 1 > /proc/sys/kernel/sysrq
if ! kexec -p /boot/vmlinuz --initrd=/boot/capture.gz \
	--append="console=ttyS0 irqpoll nr_cpus=1 reset_devices panic=10 gocrash=capture" ||
	[ "$(cat /sys/kernel/kexec_crash_loaded)" != 1 ]; then
	echo "@@GOCRASH-KEXEC-FAILED@@"
	poweroff -f
fi
ip link set lo up

# The swarm: NPROC processes of NTHREADS tasks each, files and mappings.
/bin/swarm ${swarm%,*} ${swarm#*,} > /tmp/swarm.out 2>&1 &
n=0
while ! grep -q '^ready' /tmp/swarm.out && [ $n -lt 3000 ]; do sleep 0.2; n=$((n + 1)); done
echo "@@GOCRASH-SWARM $(cat /tmp/swarm.out)@@"
sleep 1 # let the states settle

section uname '{ uname -a; uname -r; uname -n; uname -v; uname -m; }'
section nproc 'nproc'
section ps 'ps -T -o pid,ppid,stat,vsz,rss,comm'
section modules 'cat /proc/modules'
# slabinfo last, just before the crash: its counters move least so.
for f in meminfo vmallocinfo buddyinfo zoneinfo slabinfo; do
	[ -r /proc/$f ] && section $f "cat /proc/$f"
done
mark BEGIN crash
echo c > /proc/sysrq-trigger
sleep 1000
