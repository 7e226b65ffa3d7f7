package commands

import "testing"

func TestSetUnit(t *testing.T) {
	s := taskMachine(t)
	// With no context set, set shows the task that panicked (panic_cpu's).
	check(t, s, "set",
		"    PID: 100\n"+
			"COMMAND: \"bash\"\n"+
			"   TASK: ffff8880000101c0  [THREAD_INFO: ffff8880000101c0]\n"+
			"    CPU: 0\n"+
			"  STATE: TASK_RUNNING (PANIC)\n",
		`{"schema_version":1,"command":"set","data":{"pid":100,"task":"ffff8880000101c0","cpu":0,"comm":"bash","state":"RU","panic":true,"active":true}}`+"\n")
	check(t, s, "set 1",
		"    PID: 1\n"+
			"COMMAND: \"systemd\"\n"+
			"   TASK: ffff888000010080  [THREAD_INFO: ffff888000010080]\n"+
			"    CPU: 0\n"+
			"  STATE: TASK_INTERRUPTIBLE\n",
		`{"schema_version":1,"command":"set 1","data":{"pid":1,"task":"ffff888000010080","cpu":0,"comm":"systemd","state":"IN","panic":false,"active":false}}`+"\n")
	// The context stays: set alone now shows systemd.
	if text, _ := runUnit(t, s, "set"); text[:11] != "    PID: 1\n" {
		t.Errorf("set after set 1:\n%s", text)
	}
}
