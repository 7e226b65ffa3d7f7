package commands

import (
	"encoding/json"
	"testing"
	"time"
)

func TestSysUnit(t *testing.T) {
	s := taskMachine(t)
	// crash prints the date in the local time zone.
	crash := time.Unix(1700000000, 0)
	date := crash.Local().Format("Mon Jan _2 15:04:05 MST 2006")
	jdate, _ := json.Marshal(crash)
	check(t, s, "sys",
		"      KERNEL: vmlinux\n"+
			"    DUMPFILE: vmcore\n"+
			"        CPUS: 2\n"+
			"        DATE: "+date+"\n"+
			"      UPTIME: 01:01:01\n"+
			"LOAD AVERAGE: 1.00, 0.50, 0.25\n"+
			"       TASKS: 5\n"+
			"    NODENAME: testhost\n"+
			"     RELEASE: 6.1.0-test\n"+
			"     VERSION: #1 SMP PREEMPT_DYNAMIC Thu Jan  1 00:00:00 UTC 2024\n"+
			"     MACHINE: x86_64  (2400 Mhz)\n"+
			"      MEMORY: 64 MB\n"+
			"       PANIC: \"Kernel panic - not syncing: sysrq triggered crash\"\n",
		`{"schema_version":1,"command":"sys","data":{"kernel":"vmlinux","tainted":false,"dumpfiles":["vmcore"],`+
			`"cpus":2,"offline_cpus":0,"date":`+string(jdate)+`,"uptime_seconds":3661,"load_average":[1,0.5,0.25],`+
			`"tasks":5,"nodename":"testhost","release":"6.1.0-test","version":"#1 SMP PREEMPT_DYNAMIC Thu Jan  1 00:00:00 UTC 2024",`+
			`"machine":"x86_64","mhz":2400,"memory_bytes":67108864,"panic":"Kernel panic - not syncing: sysrq triggered crash"}}`+"\n")
}
