// SPDX-License-Identifier: GPL-2.0
/*
 * gocrash_crashdev: the corpus's own /dev/crash, for testing gocrash on a
 * live kernel that has no crash memory driver built in (Debian's). It
 * offers the interface of the driver that Red Hat kernels build in and that
 * crash ships as memory_driver/ (written here from that interface, not from
 * its code):
 *
 *   - a misc device named "crash" (dynamic minor; devtmpfs makes
 *     /dev/crash, mode 0400), listed in /proc/misc and /sys/class/misc;
 *   - open(2) needs CAP_SYS_RAWIO, and is refused (EPERM) for writing:
 *     there is no write(2);
 *   - read(2) at file offset N returns the physical memory at address N,
 *     read through the kernel's own mapping of its page (kmap_local_page)
 *     into a bounce page, then copied to the reader. A read must lie within
 *     one page (EINVAL otherwise, as crash's driver does); a page that is not
 *     RAM (no struct page, or not "System RAM" in /proc/iomem) is refused
 *     with EFAULT; a read at a page boundary of length 0 returns 0;
 *   - lseek(2) SEEK_SET and SEEK_CUR (pread(2) needs neither).
 *
 * There is no ioctl: crash's DEV_CRASH_ARCH_DATA is for arm64, and this
 * driver is built for x86_64 only.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/highmem.h>
#include <linux/ioport.h>
#include <linux/slab.h>
#include <linux/mutex.h>
#include <linux/uaccess.h>
#include <linux/capability.h>

/* What an open file holds: its bounce page, one reader at a time. */
struct crashdev_file {
	struct mutex lock;
	void *bounce;
};

static atomic_long_t crashdev_refused; /* pages refused, for the log */

static int crashdev_open(struct inode *inode, struct file *file)
{
	struct crashdev_file *cf;

	if (!capable(CAP_SYS_RAWIO))
		return -EPERM;
	if (file->f_mode & FMODE_WRITE)
		return -EPERM;
	cf = kzalloc(sizeof(*cf), GFP_KERNEL);
	if (!cf)
		return -ENOMEM;
	cf->bounce = (void *)__get_free_page(GFP_KERNEL);
	if (!cf->bounce) {
		kfree(cf);
		return -ENOMEM;
	}
	mutex_init(&cf->lock);
	file->private_data = cf;
	return 0;
}

static int crashdev_release(struct inode *inode, struct file *file)
{
	struct crashdev_file *cf = file->private_data;

	free_page((unsigned long)cf->bounce);
	kfree(cf);
	return 0;
}

static loff_t crashdev_llseek(struct file *file, loff_t off, int whence)
{
	loff_t pos;

	switch (whence) {
	case SEEK_SET:
		pos = off;
		break;
	case SEEK_CUR:
		pos = file->f_pos + off;
		break;
	default:
		return -EINVAL;
	}
	if (pos < 0)
		return -EINVAL;
	file->f_pos = pos;
	return pos;
}

static ssize_t crashdev_read(struct file *file, char __user *buf, size_t count, loff_t *ppos)
{
	struct crashdev_file *cf = file->private_data;
	u64 addr = *ppos;
	unsigned long pfn = addr >> PAGE_SHIFT, in_page = addr & ~PAGE_MASK;
	struct page *page;
	void *vaddr;
	long err;

	if (count == 0)
		return 0;
	if (count > PAGE_SIZE - in_page)
		return -EINVAL; /* crosses a page: one page per read */
	if (!pfn_valid(pfn) || !page_is_ram(pfn)) {
		if (atomic_long_inc_return(&crashdev_refused) <= 4)
			pr_info("gocrash_crashdev: refusing pfn %#lx: not RAM\n", pfn);
		return -EFAULT;
	}
	page = pfn_to_page(pfn);
	mutex_lock(&cf->lock);
	vaddr = kmap_local_page(page);
	/*
	 * Through the bounce page: HARDENED_USERCOPY refuses copy_to_user
	 * straight from kernel text, and a page may be unmapped (the kernel's
	 * mapping of a freed page under DEBUG_PAGEALLOC): the nofault copy
	 * then fails instead of oopsing.
	 */
	err = copy_from_kernel_nofault(cf->bounce, vaddr + in_page, count);
	kunmap_local(vaddr);
	if (!err && copy_to_user(buf, cf->bounce, count))
		err = -EFAULT;
	mutex_unlock(&cf->lock);
	if (err)
		return -EFAULT;
	*ppos += count;
	return count;
}

static const struct file_operations crashdev_fops = {
	.owner = THIS_MODULE,
	.open = crashdev_open,
	.release = crashdev_release,
	.llseek = crashdev_llseek,
	.read = crashdev_read,
};

static struct miscdevice crashdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "crash",
	.fops = &crashdev_fops,
	.mode = 0400,
};

static int __init crashdev_init(void)
{
	int err = misc_register(&crashdev);

	if (err) {
		pr_err("gocrash_crashdev: cannot register the misc device \"crash\": %d\n", err);
		return err;
	}
	pr_info("gocrash_crashdev: /dev/crash is misc %d:%d\n", MISC_MAJOR, crashdev.minor);
	return 0;
}

static void __exit crashdev_exit(void)
{
	misc_deregister(&crashdev);
}

module_init(crashdev_init);
module_exit(crashdev_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("gocrash corpus test driver: /dev/crash, physical memory read-only, as crash's memory driver");
