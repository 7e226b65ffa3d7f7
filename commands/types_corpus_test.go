package commands_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
)

// typeCommands are compared with crash 8.0.2's output, line for line.
// Left out: what crash gets wrong or cannot do (several members without an
// address, "p FUNCTION"'s stray line break).
var typeCommands = []string{
	"struct list_head",
	"struct list_head -o",
	"struct task_struct -o",
	"struct page",
	"struct file -o",
	"struct printk_info -o",
	"struct pt_regs",
	"struct timer_list",
	"struct mm_struct -o",
	"union rcu_special",
	"struct task_struct.pid",
	"struct list_head.next",
	"whatis init_task",
	"whatis jiffies",
	"whatis schedule",
	"whatis panic",
	"whatis do_exit",
	"whatis task_struct",
	"whatis struct list_head",
	"whatis -o list_head",
	"whatis pid_t",
	"whatis u8",
	"whatis int",
	"whatis atomic_t",
	"whatis sys_call_ptr_t",
	"whatis enum pid_type",
	"whatis PIDTYPE_PID",
	"whatis linux_banner",
	"whatis sys_call_table",
	"sym jiffies",
	"sym init_task",
	"sym schedule",
	"sym __handle_sysrq",
	"sym sysrq_handle_crash",
	"sym _stext",
	"sym panic",
	"p jiffies",
	"p init_task.comm",
	"p init_task.pid",
	"p linux_banner",
	"p/x jiffies",
	"p init_task.tasks",
	"p init_mm.pgd",
	"p init_task.thread_info",
	"p init_task.se.load",
	"p &init_task",
	"p sizeof(struct task_struct)",
	"p runqueues",
	"p process_counts:1",
	"p kernel_cpustat:0",
	"struct task_struct init_task",
	"struct task_struct.pid,comm,tasks init_task",
	"struct task_struct.se.load init_task",
	"struct task_struct.thread init_task",
	"struct task_struct.comm,flags -x init_task",
	"struct mm_struct.mmap_lock init_mm",
	"struct task_struct -o init_task",
	"struct rq.cpu,nr_running runqueues:a",
}

// TestCorpusTypesAgainstCrash runs the type and symbol commands in crash
// and in gocrash on the kdump runs (crash cannot open the others) and
// wants the same text.
func TestCorpusTypesAgainstCrash(t *testing.T) {
	compared := 0
	for _, r := range crashRuns(t) {
		t.Run(r.Name, func(t *testing.T) {
			f := r.Files[0]
			var cmds []string
			for _, c := range typeCommands {
				if c == "whatis sys_call_table" {
					// crash says "[451]" or "[]" depending on which
					// commands ran before (gdb expands the defining unit
					// lazily); gocrash always gives the defined size.
					continue
				}
				cmds = append(cmds, c)
			}
			want := crashAnswers(t, r, f, cmds)
			s := openSession(t, r, f)
			s.Kernel.Vmlinux.IndexCache = t.TempDir()
			same := 0
			for i, c := range cmds {
				var b bytes.Buffer
				if err := s.Registry.Run(context.Background(), s, strings.Fields(c), &b); err != nil {
					t.Errorf("%s: %v", c, err)
					continue
				}
				if b.String() != want[i] {
					t.Errorf("%s:\n%s--- crash:\n%s", c, b.String(), want[i])
					continue
				}
				same++
			}
			compared++
			t.Logf("%d of %d commands print what crash prints", same, len(cmds))
		})
	}
	if compared == 0 {
		t.Fatal("no kdump run in the corpus")
	}
}

// TestCorpusTypes runs the type commands on every corpus dump (crash
// cannot open most of them): each must succeed, and the struct layouts
// printed must agree with the kernel model's.
func TestCorpusTypes(t *testing.T) {
	for _, r := range corpus.Runs(t) {
		t.Run(r.Name, func(t *testing.T) {
			s := openSession(t, r, r.Files[0])
			s.Kernel.Vmlinux.IndexCache = t.TempDir()
			for _, c := range typeCommands {
				if strings.Contains(c, "sys_call") && !strings.HasPrefix(r.Name, "x86_64") {
					continue
				}
				var b bytes.Buffer
				if err := s.Registry.Run(context.Background(), s, strings.Fields(c), &b); err != nil {
					t.Errorf("%s: %v", c, err)
				} else if b.Len() == 0 {
					t.Errorf("%s: no output", c)
				}
			}
			// -l: init_task.tasks.next is the next task's tasks member;
			// printed as a task_struct from there, its pid and comm are the
			// second task's.
			ts, err := s.Kernel.Vmlinux.Types()
			if err != nil {
				t.Fatal(err)
			}
			tt, _ := ts.Lookup("struct task_struct")
			m, err := tt.MemberPath("tasks")
			if err != nil {
				t.Fatal(err)
			}
			it, _ := s.Kernel.SymbolAddr("init_task")
			next, err := s.Kernel.ReadU64(it + uint64(m.Offset))
			if err != nil {
				t.Fatal(err)
			}
			second, err := s.Kernel.ReadTask(next - uint64(m.Offset))
			if err != nil {
				t.Fatal(err)
			}
			out := run(t, s, fmt.Sprintf("struct task_struct.pid -l task_struct.tasks %x", next))
			if out != fmt.Sprintf("  pid = %d,\n", second.PID) {
				t.Errorf("struct -l: %q, want pid %d", out, second.PID)
			}
			// The task list's comm, read through the DWARF types, equals
			// the kernel model's (BTF) for the panic task.
			pt, err := s.Kernel.PanicTask()
			if err != nil {
				t.Fatal(err)
			}
			task, err := s.Kernel.ReadTask(pt)
			if err != nil {
				t.Fatal(err)
			}
			out = run(t, s, fmt.Sprintf("struct task_struct.comm,pid %x", pt))
			wantOut := "  comm = \"" + task.Comm
			if !strings.Contains(out, wantOut) || !strings.Contains(out, fmt.Sprintf("pid = %d,", task.PID)) {
				t.Errorf("panic task: %q, want comm %q pid %d", out, task.Comm, task.PID)
			}
		})
	}
}
