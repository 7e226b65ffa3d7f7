#!/bin/busybox sh
# /init of every corpus guest. The kernel command line's gocrash= says what
# to do: "kdump" (load the capture kernel, run the workload, crash),
# "qemu" (run the workload, crash; the host dumps with QEMU), or "capture"
# (kdump's capture kernel: copy /proc/vmcore to the virtio disk, power off).
/bin/busybox mkdir -p /proc /sys /dev /tmp /bin /sbin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mode=$(sed -n 's/.*gocrash=\([a-z]*\).*/\1/p' /proc/cmdline)

# The guest's ground truth goes through the kernel log (/dev/kmsg, with
# printk.devkmsg=on) rather than stdout: the kernel prints a record to the
# console whole, while stdout through the tty can be cut into by kernel lines.
mark() { echo "@@GOCRASH-$1 $2@@" > /dev/kmsg; }
say() { while IFS= read -r line; do echo "@@GOCRASH $1: $line" > /dev/kmsg; done; }

if [ "$mode" = capture ]; then
	for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk; do
		[ -f /modules/$m.ko ] && insmod /modules/$m.ko
	done
	n=0
	while [ ! -b /dev/vda ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
	size=$(stat -c %s /proc/vmcore)
	echo "@@GOCRASH-VMCORE-SIZE $size@@"
	dd if=/proc/vmcore of=/dev/vda bs=1M 2>/dev/null
	sync
	echo "@@GOCRASH-VMCORE-COPIED@@"
	poweroff -f
fi

hostname gocrash
for m in /modules/*.ko; do
	case $m in */qemu_fw_cfg.ko) [ "$mode" = qemu ] && insmod "$m" ;; esac
done
if [ "$mode" = kdump ]; then
	kexec -p /boot/vmlinuz --initrd=/boot/capture.gz \
		--append="console=ttyS0 irqpoll nr_cpus=1 reset_devices gocrash=capture" ||
		echo "@@GOCRASH-KEXEC-FAILED@@"
fi
echo 1 > /proc/sys/kernel/sysrq

# Tasks in known states.
sleep 1000 &
sh -c 'while :; do :; done' &
mkfifo /tmp/fifo
cat /tmp/fifo &
sleep 1001 &
stopped=$!
sleep 0.2 # let it exec sleep before it is stopped
kill -STOP $stopped
sh -c 'sleep 0 & exec sleep 9999' &
sh -c 'echo -n renamed-task > /proc/self/comm; while :; do sleep 1000; done' &
sleep 2

{ uname -a; uname -r; uname -n; uname -v; uname -m; } | say uname
grep -c ^processor /proc/cpuinfo | say nproc
ps -o pid,ppid,stat,vsz,rss,comm > /tmp/ps.txt # to a file: a pipe would add its reader to the list
say ps < /tmp/ps.txt
say modules < /proc/modules
mark BEGIN sysrq-t
echo t > /proc/sysrq-trigger
sleep 2
mark END sysrq-t
mark BEGIN crash
echo c > /proc/sysrq-trigger
sleep 1000
