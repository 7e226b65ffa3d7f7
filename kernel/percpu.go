package kernel

// CPUOnline reports whether cpu is in __cpu_online_mask (crash's kmem -o
// marks the others [OFFLINE]).
func (k *System) CPUOnline(cpu int) (bool, error) {
	a, err := k.SymbolAddr("__cpu_online_mask")
	if err != nil {
		return false, err
	}
	w, err := k.ReadU64(a + 8*uint64(cpu/64))
	if err != nil {
		return false, err
	}
	return w>>(uint(cpu)%64)&1 == 1, nil
}
