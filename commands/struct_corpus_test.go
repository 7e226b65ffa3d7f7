package commands_test

import (
	"fmt"
	"testing"
)

// TestCorpusStructOptionsAgainstCrash: struct and union's -r, -f, -u, -p
// and -c print what crash 8.0.2 prints on the 5.10 kdump run: raw dumps
// of a whole struct and of members of 4 and 16 bytes; the ELF header at
// offset 0 of the dump file; a list_head in the panic task's user space;
// counted and negatively counted arrays; the pointer members of a
// task_struct and of an mm_struct with their targets (a struct, a
// function, a NULL, a pointer-typed page directory) and of a union; the "*" short-cut. The
// JSON of -p carries each pointer's target.
func TestCorpusStructOptionsAgainstCrash(t *testing.T) {
	r := kdumpRun(t, "5.10")
	f := r.Files[0]
	s := openSession(t, r, f)
	init := symAddr(t, s, "init_task")
	mm, _ := initTask(t, s)
	var task uint64
	tasks, err := s.Kernel.Tasks()
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range tasks {
		if tk.PID == 1 {
			task = tk.Addr
		}
	}
	cmds := []string{
		fmt.Sprintf("struct list_head -r %x", init),
		fmt.Sprintf("struct task_struct.pid -r %x", task),
		fmt.Sprintf("struct task_struct.comm -r %x", task),
		fmt.Sprintf("struct task_struct -r %x", task),
		fmt.Sprintf("union sigval -r %x", task),
		"struct elf64_hdr -f 0",
		"struct elf64_hdr -f 0 -x",
		"struct list_head -u 400000",
		fmt.Sprintf("struct list_head %x -c 2", init),
		fmt.Sprintf("struct list_head %x -c -2", init),
		fmt.Sprintf("struct list_head %x 3", init),
		fmt.Sprintf("struct task_struct.pid,tgid %x -c 2", task),
		fmt.Sprintf("struct task_struct.parent,comm,stack,mm %x -p", task),
		fmt.Sprintf("struct mm_struct %x -p", mm),
		fmt.Sprintf("struct mm_struct %x -p -d", mm),
		fmt.Sprintf("union sigval.sival_ptr %x -p", task),
		fmt.Sprintf("* list_head %x", init),
		fmt.Sprintf("* task_struct.pid,comm %x", task),
		fmt.Sprintf("task_struct.real_parent %x -p", task),
	}
	// crash prints a whole union without the newline after its closing
	// brace (the next output follows on the same line): gocrash ends the
	// line, and the unions are compared less that newline.
	unions := []string{
		fmt.Sprintf("union sigval %x", task),
		fmt.Sprintf("union sigval %x -p", init+offsetOf(t, s, "task_struct", "parent")),
		fmt.Sprintf("* sigval %x -x", task),
	}
	n := compareWithCrash(t, r, f, s, nil, cmds)
	want := crashAnswers(t, r, f, unions)
	for i, c := range unions {
		if got := runOut(t, s, c); got != want[i]+"\n" {
			t.Errorf("%s:\n%s--- crash 8.0.2:\n%s", c, got, want[i])
		}
	}
	t.Logf("%s: %d struct commands equal crash 8.0.2's, %d unions but for their last newline", r.Name, n, len(unions))

	// crash 8.0.2 reading its commands from a pipe takes "* NAME" but not
	// "*NAME" (command not found); gocrash takes both, the same.
	if a, b := run(t, s, fmt.Sprintf("*list_head %x", init)), run(t, s, fmt.Sprintf("* list_head %x", init)); a != b {
		t.Errorf("*list_head:\n%s* list_head:\n%s", a, b)
	}

	line := fmt.Sprintf("struct task_struct.parent,mm %x -p", task)
	var res struct {
		Instances []struct {
			Pointers []struct {
				Member string `json:"member"`
				Target string `json:"target"`
				Kind   string `json:"kind"`
				Symbol string `json:"symbol"`
			} `json:"pointers"`
		} `json:"instances"`
	}
	jsonData(t, s, line, &res)
	if len(res.Instances) != 1 || len(res.Instances[0].Pointers) != 2 {
		t.Fatalf("%s: %+v", line, res)
	}
	p := res.Instances[0].Pointers // in the struct's order: mm, then parent
	if p[1].Member != "parent" || p[1].Target != fmt.Sprintf("%016x", init) || p[1].Symbol != "init_task" || p[1].Kind != "data" ||
		p[0].Member != "mm" || p[0].Target != fmt.Sprintf("%016x", mm) || p[0].Kind != "data" {
		t.Errorf("%s: %+v", line, p)
	}
}
