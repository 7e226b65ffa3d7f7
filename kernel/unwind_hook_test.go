package kernel

// Test hooks: one unwinder alone, for the corpus tests to compare with bt's.

// BacktraceCFIOnly unwinds a switched-out task by CFI alone.
func (u *Unwinder) BacktraceCFIOnly(t Task) (*Trace, error) { return u.backtraceMode(t, unwindCFIOnly) }

// BacktraceFPOnly unwinds a switched-out x86_64 task by frame pointers alone.
func (u *Unwinder) BacktraceFPOnly(t Task) (*Trace, error) { return u.backtraceMode(t, unwindFPOnly) }
