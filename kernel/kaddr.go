package kernel

import "errors"

// VmapAreaOf finds the busy vmalloc area holding addr.
func (k *Kernel) VmapAreaOf(addr uint64) (VmapArea, bool, error) {
	areas, err := k.VmapAreas()
	for _, a := range areas {
		if addr >= a.Start && addr < a.End {
			return a, true, nil
		}
	}
	return VmapArea{}, false, err
}

// TaskOfAddr finds the task whose task_struct (inStruct) or kernel stack
// holds addr.
func (k *Kernel) TaskOfAddr(addr uint64) (t Task, inStruct, ok bool, err error) {
	tasks, err := k.Tasks()
	var u *UnreadableTasksError
	if err != nil && !errors.As(err, &u) {
		return Task{}, false, false, err
	}
	size, err := k.Size("task_struct")
	if a, e := k.SymbolAddr("arch_task_struct_size"); e == nil {
		// x86_64 sizes task_struct by the CPU's FPU state at boot.
		if n, e := k.ReadU32(a); e == nil && n > 0 {
			size, err = int64(n), nil
		}
	}
	if err == nil {
		for _, t := range tasks {
			if addr >= t.Addr && addr < t.Addr+uint64(size) {
				return t, true, true, nil
			}
		}
	}
	for _, t := range tasks {
		lo, hi, err := k.TaskStack(t)
		if err == nil && addr >= lo && addr < hi {
			return t, false, true, nil
		}
	}
	return Task{}, false, false, nil
}
