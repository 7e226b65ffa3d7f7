// SPDX-License-Identifier: GPL-2.0
/*
 * gocrash_test: the corpus's own test module. It crashes the kernel, on
 * command, in the ways gocrash must read dumps of:
 *
 *   echo oops       > /proc/gocrash_test   NULL write several calls deep (process context)
 *   echo oops-timer > /proc/gocrash_test   NULL write in a timer callback (softirq, IRQ stack)
 *   echo bug        > /proc/gocrash_test   BUG()
 *   echo warn       > /proc/gocrash_test   WARN() (with panic_on_warn=1 it panics)
 *   echo softlockup > /proc/gocrash_test   a kthread spinning with preemption off
 *   echo hungtask   > /proc/gocrash_test   a kthread left in D state
 *
 * At load it also starts a kernel thread that sleeps in module code
 * (gocrash_sleep) and builds a small list of kmalloc'ed nodes rooted in a
 * module global (gocrash_list) and a small rbtree of its own nodes (gocrash_tree, keys
 * 10 to 50), so that traces of non-panic tasks and module
 * data have something to show.
 *
 * Every frame the tests look for is a function of its own: GNU C's noipa
 * keeps GCC from inlining it, cloning it or assuming anything about it
 * across the call, and each result is stored (WRITE_ONCE to gocrash_sink)
 * so that no call is deleted as pure or turned into a tail call.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/proc_fs.h>
#include <linux/kthread.h>
#include <linux/slab.h>
#include <linux/list.h>
#include <linux/timer.h>
#include <linux/delay.h>
#include <linux/sched.h>
#include <linux/completion.h>
#include <linux/uaccess.h>
#include <linux/string.h>
#include <linux/rbtree.h>

#define GOCRASH_FRAME __attribute__((__noipa__)) noinline

/* A node of the module's own list, in slab memory. */
struct gocrash_node {
	struct list_head link;
	unsigned long magic; /* GOCRASH_NODE_MAGIC + index */
	int index;
	char name[16]; /* "node-<index>" */
};

#define GOCRASH_NODE_MAGIC 0x6763726173680000UL /* "gcrash\0\0" */
#define GOCRASH_NODES 4

LIST_HEAD(gocrash_list);

/* A node of the module's own rbtree, in slab memory, keyed by key. */
struct gocrash_tnode {
	struct rb_node node;
	u64 key;   /* 10, 20, ... */
	u64 magic; /* GOCRASH_TNODE_MAGIC + key */
};

#define GOCRASH_TNODE_MAGIC 0x6763726173680100ULL
#define GOCRASH_TNODES 5

struct rb_root gocrash_tree = RB_ROOT;
int gocrash_tnodes_count;
int gocrash_nodes_count;
unsigned long gocrash_sink;
/* Read through READ_ONCE: GCC cannot see that the faulting writes go to NULL. */
unsigned long *gocrash_null_ptr;
int gocrash_armed = 1;

static struct task_struct *gocrash_sleeper, *gocrash_spinner, *gocrash_hung;
static struct timer_list gocrash_timer;
static DECLARE_COMPLETION(gocrash_never);
static struct proc_dir_entry *gocrash_proc;

static void gocrash_store(unsigned long v)
{
	WRITE_ONCE(gocrash_sink, READ_ONCE(gocrash_sink) + v);
}

/* ---- the sleeping kthread (at load) ---------------------------------- */

GOCRASH_FRAME static long gocrash_sleep_inner(int depth)
{
	long left = schedule_timeout_interruptible(3600 * HZ);

	gocrash_store(left);
	return left + depth;
}

GOCRASH_FRAME static long gocrash_sleep_outer(int depth)
{
	long r = gocrash_sleep_inner(depth + 1);

	gocrash_store(r);
	return r + depth;
}

static int gocrash_sleep_fn(void *arg)
{
	while (!kthread_should_stop())
		gocrash_store(gocrash_sleep_outer(1));
	return 0;
}

/* ---- oops in process context ----------------------------------------- */

GOCRASH_FRAME static unsigned long gocrash_oops_inner(unsigned long v)
{
	unsigned long *p = READ_ONCE(gocrash_null_ptr);

	WRITE_ONCE(*p, v); /* the fault */
	return v + 1;
}

GOCRASH_FRAME static unsigned long gocrash_oops_middle(unsigned long v)
{
	unsigned long r = gocrash_oops_inner(v * 3);

	gocrash_store(r);
	return r + 2;
}

GOCRASH_FRAME static unsigned long gocrash_oops_outer(unsigned long v)
{
	unsigned long r = gocrash_oops_middle(v + 5);

	gocrash_store(r);
	return r + 3;
}

/* ---- oops in a timer callback (softirq) ------------------------------ */

GOCRASH_FRAME static unsigned long gocrash_timer_inner(unsigned long v)
{
	unsigned long *p = READ_ONCE(gocrash_null_ptr);

	WRITE_ONCE(p[1], v); /* the fault, at address 8 */
	return v + 1;
}

GOCRASH_FRAME static unsigned long gocrash_timer_outer(unsigned long v)
{
	unsigned long r = gocrash_timer_inner(v + 7);

	gocrash_store(r);
	return r + 2;
}

static void gocrash_timer_fn(struct timer_list *t)
{
	gocrash_store(gocrash_timer_outer(jiffies));
}

GOCRASH_FRAME static unsigned long gocrash_timer_wait(void)
{
	/* The writer sleeps here (in module code) until the timer fires. */
	mod_timer(&gocrash_timer, jiffies + 1);
	msleep(10000);
	gocrash_store(1);
	return 1;
}

/* ---- BUG() and WARN() ------------------------------------------------ */

GOCRASH_FRAME static unsigned long gocrash_bug_inner(unsigned long v)
{
	BUG_ON(READ_ONCE(gocrash_armed));
	return v + 1;
}

GOCRASH_FRAME static unsigned long gocrash_bug_outer(unsigned long v)
{
	unsigned long r = gocrash_bug_inner(v + 1);

	gocrash_store(r);
	return r + 2;
}

GOCRASH_FRAME static unsigned long gocrash_warn_inner(unsigned long v)
{
	WARN(READ_ONCE(gocrash_armed), "gocrash_test: WARN on request\n");
	return v + 1;
}

GOCRASH_FRAME static unsigned long gocrash_warn_outer(unsigned long v)
{
	unsigned long r = gocrash_warn_inner(v + 1);

	gocrash_store(r);
	return r + 2;
}

/* ---- soft lockup: a kthread spinning with preemption off ------------- */

GOCRASH_FRAME static unsigned long gocrash_spin_inner(unsigned long v)
{
	unsigned long i;

	for (i = 0; i < 1000000; i++) {
		cpu_relax();
		v += i;
	}
	gocrash_store(v);
	return v;
}

GOCRASH_FRAME static unsigned long gocrash_spin_outer(unsigned long v)
{
	unsigned long r;

	preempt_disable();
	for (;;) {
		r = gocrash_spin_inner(v);
		gocrash_store(r);
		if (!READ_ONCE(gocrash_armed))
			break;
	}
	preempt_enable();
	return r;
}

static int gocrash_spin_fn(void *arg)
{
	gocrash_store(gocrash_spin_outer(1));
	return 0;
}

/* ---- hung task: a kthread in D state --------------------------------- */

GOCRASH_FRAME static unsigned long gocrash_hung_inner(unsigned long v)
{
	wait_for_completion(&gocrash_never); /* TASK_UNINTERRUPTIBLE */
	gocrash_store(v);
	return v + 1;
}

GOCRASH_FRAME static unsigned long gocrash_hung_outer(unsigned long v)
{
	unsigned long r = gocrash_hung_inner(v + 1);

	gocrash_store(r);
	return r + 2;
}

static int gocrash_hung_fn(void *arg)
{
	gocrash_store(gocrash_hung_outer(1));
	return 0;
}

/* ---- the /proc file -------------------------------------------------- */

GOCRASH_FRAME static int gocrash_command(const char *cmd)
{
	if (!strcmp(cmd, "oops")) {
		gocrash_store(gocrash_oops_outer(1));
	} else if (!strcmp(cmd, "oops-timer")) {
		gocrash_store(gocrash_timer_wait());
	} else if (!strcmp(cmd, "bug")) {
		gocrash_store(gocrash_bug_outer(1));
	} else if (!strcmp(cmd, "warn")) {
		gocrash_store(gocrash_warn_outer(1));
	} else if (!strcmp(cmd, "softlockup")) {
		if (!gocrash_spinner)
			gocrash_spinner = kthread_run(gocrash_spin_fn, NULL, "gocrash_spin");
	} else if (!strcmp(cmd, "hungtask")) {
		if (!gocrash_hung)
			gocrash_hung = kthread_run(gocrash_hung_fn, NULL, "gocrash_hung");
	} else {
		return -EINVAL;
	}
	return 0;
}

static ssize_t gocrash_write(struct file *file, const char __user *ubuf, size_t len, loff_t *off)
{
	char cmd[32];
	size_t n = min(len, sizeof(cmd) - 1);
	int err;

	if (copy_from_user(cmd, ubuf, n))
		return -EFAULT;
	cmd[n] = '\0';
	err = gocrash_command(strim(cmd));
	return err ? err : len;
}

static ssize_t gocrash_read(struct file *file, char __user *ubuf, size_t len, loff_t *off)
{
	static const char help[] = "oops oops-timer bug warn softlockup hungtask\n";

	return simple_read_from_buffer(ubuf, len, off, help, sizeof(help) - 1);
}

static const struct proc_ops gocrash_proc_ops = {
	.proc_read = gocrash_read,
	.proc_write = gocrash_write,
};

/* ---- load and unload ------------------------------------------------- */

static void gocrash_free_nodes(void)
{
	struct gocrash_node *n, *tmp;

	list_for_each_entry_safe(n, tmp, &gocrash_list, link) {
		list_del(&n->link);
		kfree(n);
	}
	gocrash_nodes_count = 0;
}

static void gocrash_free_tree(void)
{
	struct gocrash_tnode *t, *tmp;

	rbtree_postorder_for_each_entry_safe(t, tmp, &gocrash_tree, node)
		kfree(t);
	gocrash_tree = RB_ROOT;
	gocrash_tnodes_count = 0;
}

/* gocrash_tree_insert adds t to gocrash_tree in key order. */
static void gocrash_tree_insert(struct gocrash_tnode *t)
{
	struct rb_node **link = &gocrash_tree.rb_node, *parent = NULL;

	while (*link) {
		parent = *link;
		if (t->key < rb_entry(parent, struct gocrash_tnode, node)->key)
			link = &parent->rb_left;
		else
			link = &parent->rb_right;
	}
	rb_link_node(&t->node, parent, link);
	rb_insert_color(&t->node, &gocrash_tree);
}

/*
 * gocrash_build_tree inserts the keys 30, 10, 50, 20, 40 (not in order, so
 * that the tree is rebalanced): an in-order walk gives 10 ... 50.
 */
static int gocrash_build_tree(void)
{
	static const u64 keys[GOCRASH_TNODES] = { 30, 10, 50, 20, 40 };
	struct gocrash_tnode *t;
	int i;

	for (i = 0; i < GOCRASH_TNODES; i++) {
		t = kmalloc(sizeof(*t), GFP_KERNEL);
		if (!t)
			return -ENOMEM;
		t->key = keys[i];
		t->magic = GOCRASH_TNODE_MAGIC + keys[i];
		gocrash_tree_insert(t);
		gocrash_tnodes_count++;
	}
	return 0;
}

static int __init gocrash_init(void)
{
	struct gocrash_node *n;
	int i;

	for (i = 0; i < GOCRASH_NODES; i++) {
		n = kmalloc(sizeof(*n), GFP_KERNEL);
		if (!n) {
			gocrash_free_nodes();
			return -ENOMEM;
		}
		n->magic = GOCRASH_NODE_MAGIC + i;
		n->index = i;
		snprintf(n->name, sizeof(n->name), "node-%d", i);
		list_add_tail(&n->link, &gocrash_list);
		gocrash_nodes_count++;
	}
	if (gocrash_build_tree()) {
		gocrash_free_tree();
		gocrash_free_nodes();
		return -ENOMEM;
	}
	timer_setup(&gocrash_timer, gocrash_timer_fn, 0);
	gocrash_sleeper = kthread_run(gocrash_sleep_fn, NULL, "gocrash_sleep");
	if (IS_ERR(gocrash_sleeper)) {
		gocrash_free_tree();
		gocrash_free_nodes();
		return PTR_ERR(gocrash_sleeper);
	}
	gocrash_proc = proc_create("gocrash_test", 0600, NULL, &gocrash_proc_ops);
	if (!gocrash_proc) {
		kthread_stop(gocrash_sleeper);
		gocrash_free_tree();
		gocrash_free_nodes();
		return -ENOMEM;
	}
	pr_info("gocrash_test: loaded, %d nodes on gocrash_list, %d on gocrash_tree\n",
		gocrash_nodes_count, gocrash_tnodes_count);
	return 0;
}

static void __exit gocrash_exit(void)
{
	proc_remove(gocrash_proc);
	del_timer_sync(&gocrash_timer);
	WRITE_ONCE(gocrash_armed, 0);
	complete_all(&gocrash_never);
	/* (a spinner or hung thread, once started, has crashed the kernel) */
	kthread_stop(gocrash_sleeper);
	gocrash_free_tree();
	gocrash_free_nodes();
}

module_init(gocrash_init);
module_exit(gocrash_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("gocrash corpus test module: crashes the kernel on command");
