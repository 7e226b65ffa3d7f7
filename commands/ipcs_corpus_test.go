package commands_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/internal/corpus"
)

// TestCorpusIPCSAgainstTruth compares ipcs with the guest's
// /proc/sysvipc/shm, sem and msg on every run: the guest made one shared
// memory segment, semaphore set and message queue (keys 0x6763, 0x6764,
// 0x6765); each object is there with its key, id, permissions and size,
// semaphore count, or queued bytes and messages, in the JSON and the text.
func TestCorpusIPCSAgainstTruth(t *testing.T) {
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		lines := truthSection(t, r, "ipcs")
		s := openSession(t, r, r.Files[0])
		var got struct {
			Sections []struct {
				Kind    string `json:"kind"`
				Objects []struct {
					Key       uint32 `json:"key"`
					ID        int32  `json:"id"`
					Perms     uint32 `json:"perms"`
					Bytes     uint64 `json:"bytes"`
					Nattch    uint64 `json:"nattch"`
					Nsems     uint64 `json:"nsems"`
					UsedBytes uint64 `json:"used_bytes"`
					Messages  uint64 `json:"messages"`
				} `json:"objects"`
			} `json:"sections"`
		}
		jsonData(t, s, "ipcs", &got)
		text := run(t, s, "ipcs")
		ours := map[string]string{}
		for _, sec := range got.Sections {
			for _, o := range sec.Objects {
				var v string
				switch sec.Kind {
				case "shm":
					v = fmt.Sprintf("%d %d %o %d %d", o.Key, o.ID, o.Perms, o.Bytes, o.Nattch)
				case "sem":
					v = fmt.Sprintf("%d %d %o %d", o.Key, o.ID, o.Perms, o.Nsems)
				default:
					v = fmt.Sprintf("%d %d %o %d %d", o.Key, o.ID, o.Perms, o.UsedBytes, o.Messages)
				}
				ours[sec.Kind+" "+strconv.Itoa(int(o.ID))] = v
				if !strings.Contains(text, fmt.Sprintf(" %08x %-10d ", o.Key, o.ID)) {
					t.Errorf("%s %d: key %08x not in the text:\n%s", sec.Kind, o.ID, o.Key, text)
				}
			}
		}
		kind, n := "", 0
		for _, ln := range lines {
			if k, ok := strings.CutPrefix(ln, "== "); ok {
				kind = k
				continue
			}
			f := strings.Fields(ln)
			if len(f) < 4 || f[0] == "key" {
				continue
			}
			// shm: key shmid perms size cpid lpid nattch ...; sem: key
			// semid perms nsems ...; msg: key msqid perms cbytes qnum ...
			var want string
			switch kind {
			case "shm":
				want = strings.Join([]string{f[0], f[1], f[2], f[3], f[6]}, " ")
			case "sem":
				want = strings.Join(f[:4], " ")
			case "msg":
				want = strings.Join(f[:5], " ")
			default:
				continue
			}
			n++
			if g := ours[kind+" "+f[1]]; g != want {
				t.Errorf("%s %s: %q, the guest %q", kind, f[1], g, want)
			}
		}
		if n != 3 || len(ours) != 3 {
			t.Errorf("the guest has %d IPC objects, ipcs %d:\n%s", n, len(ours), text)
		}
	})
}
