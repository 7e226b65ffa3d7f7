package kernel

// Test hooks: one unwinder alone, for the corpus tests to compare with bt's.

// BacktraceCFIOnly unwinds a switched-out task by CFI alone.
func (k *Kernel) BacktraceCFIOnly(t Task) (*Trace, error) { return k.backtraceMode(t, unwindCFIOnly) }

// BacktraceFPOnly unwinds a switched-out x86_64 task by frame pointers alone.
func (k *Kernel) BacktraceFPOnly(t Task) (*Trace, error) { return k.backtraceMode(t, unwindFPOnly) }
