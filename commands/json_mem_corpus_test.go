package commands_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gocrash/gocrash/arch"
	"github.com/gocrash/gocrash/commands"
	"github.com/gocrash/gocrash/internal/corpus"
)

// TestPtovResultRendering: ptov's pairs print as crash's two columns and
// carry the addresses as 16-digit hex strings.
func TestPtovResultRendering(t *testing.T) {
	r := &commands.PtovResult{Pairs: []commands.PtovPair{{Virtual: 0xffff888001000000, Physical: 0x1000000}}}
	var b bytes.Buffer
	if err := r.Text(&b); err != nil {
		t.Fatal(err)
	}
	if want := "VIRTUAL           PHYSICAL\nffff888001000000  1000000\n"; b.String() != want {
		t.Errorf("text %q, want %q", b.String(), want)
	}
	j, _ := json.Marshal(r)
	if want := `{"pairs":[{"virtual":"ffff888001000000","physical":"0000000001000000"}]}`; string(j) != want {
		t.Errorf("JSON %s, want %s", j, want)
	}
}

// TestCorpusMemJSON runs rd, ptov, vtop, kmem -p and task in JSON on every
// corpus run and checks the JSON carries what the text shows: as many
// rows, the same addresses and values.
func TestCorpusMemJSON(t *testing.T) {
	corpus.ForEachRun(t, func(t *testing.T, r *corpus.Run) {
		s := openSession(t, r, r.Files[0])
		s.Kernel.Vmlinux.IndexCache = t.TempDir()
		k := s.Kernel
		banner, err := k.SymbolAddr("linux_banner")
		if err != nil {
			t.Fatal(err)
		}
		bannerPhys, err := k.VirtToPhys(banner)
		if err != nil {
			t.Fatal(err)
		}

		// rd: each text line is a row: its address, then its values.
		for _, c := range []string{"rd linux_banner 5", "rd -32 linux_banner 9", "rd -16 -x linux_banner 3", "rd -8 linux_banner 20",
			"rd -d -32 linux_banner 4", fmt.Sprintf("rd -p %x 4", bannerPhys), "rd -s linux_banner 2"} {
			lines := strings.Split(strings.TrimSuffix(run(t, s, c), "\n"), "\n")
			var d struct {
				Size int `json:"size"`
				Rows []struct {
					Address any    `json:"address"`
					Values  []any  `json:"values"`
					ASCII   string `json:"ascii"`
				} `json:"rows"`
			}
			jsonData(t, s, c, &d)
			if len(d.Rows) != len(lines) {
				t.Fatalf("%s: %d rows, text has %d lines", c, len(d.Rows), len(lines))
			}
			for i, row := range d.Rows {
				f := strings.Fields(lines[i])
				if a := hexField(t, c+" address", row.Address); f[0] != fmt.Sprintf("%x:", a) {
					t.Errorf("%s: row %d address %x, text %q", c, i, a, lines[i])
				}
				if len(f)-1 < len(row.Values) {
					t.Fatalf("%s: row %d has %d values, text %q", c, i, len(row.Values), lines[i])
				}
				for j, v := range row.Values {
					var got string
					switch x := v.(type) {
					case string:
						got = fmt.Sprintf("%016x", hexField(t, c+" value", x))
					case float64:
						if strings.Contains(c, "-d") {
							got = strconv.FormatInt(int64(x), 10)
						} else {
							got = fmt.Sprintf("%0*x", d.Size*2, uint64(x))
						}
					}
					if strings.Contains(c, "-s") && !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(f[1+j]) {
						continue // a symbol name
					}
					if got != f[1+j] {
						t.Errorf("%s: row %d value %d %v, text %q", c, i, j, v, lines[i])
					}
				}
				if row.ASCII != "" && !strings.HasSuffix(lines[i], "   "+row.ASCII) {
					t.Errorf("%s: row %d ascii %q, text %q", c, i, row.ASCII, lines[i])
				}
			}
		}
		// rd -a: the rows are the string.
		{
			text := run(t, s, "rd -a linux_banner")
			var d struct {
				String bool `json:"string"`
				Rows   []struct {
					Address any    `json:"address"`
					ASCII   string `json:"ascii"`
				} `json:"rows"`
			}
			jsonData(t, s, "rd -a linux_banner", &d)
			var b strings.Builder
			for _, row := range d.Rows {
				fmt.Fprintf(&b, "%x:  %s\n", hexField(t, "rd -a address", row.Address), strings.ReplaceAll(row.ASCII, "\n", "\\n"))
			}
			if !d.String || b.String() != text {
				t.Errorf("rd -a: JSON gives\n%s--- text:\n%s", b.String(), text)
			}
		}

		// ptov: the pairs.
		{
			c := fmt.Sprintf("ptov %x %x", bannerPhys, bannerPhys+4096)
			lines := strings.Split(strings.TrimSuffix(run(t, s, c), "\n"), "\n")
			var d struct {
				Pairs []struct{ Virtual, Physical any } `json:"pairs"`
			}
			jsonData(t, s, c, &d)
			if len(d.Pairs) != 2 || len(lines) != 3 {
				t.Fatalf("%s: %d pairs, %d lines", c, len(d.Pairs), len(lines))
			}
			for i, p := range d.Pairs {
				v, ph := hexField(t, "virtual", p.Virtual), hexField(t, "physical", p.Physical)
				if want := fmt.Sprintf("%-16x  %x", v, ph); lines[1+i] != want {
					t.Errorf("%s: pair %x %x, text %q", c, v, ph, lines[1+i])
				}
			}
			if hexField(t, "physical", d.Pairs[0].Physical) != bannerPhys {
				t.Errorf("%s: physical %v", c, d.Pairs[0].Physical)
			}
		}

		// vtop (kernel and user) and kmem -p.
		pt, err := k.PanicTask()
		if err != nil {
			t.Fatal(err)
		}
		vtops := []string{fmt.Sprintf("vtop %x", banner), fmt.Sprintf("vtop %x %x", pt, banner), "vtop -u 400000", "vtop -u 0"}
		for _, c := range vtops {
			checkVtopJSON(t, s, c)
		}
		for _, c := range []string{fmt.Sprintf("kmem -p %x", bannerPhys), fmt.Sprintf("kmem -p %x %x", pt, bannerPhys)} {
			lines := strings.Split(strings.TrimSuffix(run(t, s, c), "\n"), "\n")
			var d struct {
				Pages []pageJSON `json:"pages"`
			}
			jsonData(t, s, c, &d)
			if len(d.Pages) != len(lines)-1 {
				t.Fatalf("%s: %d pages, text has %d lines", c, len(d.Pages), len(lines))
			}
			for i, p := range d.Pages {
				p.check(t, c, lines[1+i])
			}
		}

		// task: the header of each task and its members.
		for _, c := range []string{"task", "task -R pid,comm,se.on_rq", "task -x -R pid,tgid 1", "task -R pid sleep"} {
			text := run(t, s, c)
			order, _ := taskBlocks(text)
			var d struct {
				Tasks []struct {
					PID        int32          `json:"pid"`
					Task       any            `json:"task"`
					Comm       string         `json:"comm"`
					TaskStruct map[string]any `json:"task_struct"`
				} `json:"tasks"`
			}
			jsonData(t, s, c, &d)
			if len(d.Tasks) != len(order) || len(order) == 0 {
				t.Fatalf("%s: %d tasks, text has %d", c, len(d.Tasks), len(order))
			}
			for i, tk := range d.Tasks {
				if a := fmt.Sprintf("%016x", hexField(t, "task", tk.Task)); a != order[i] {
					t.Errorf("%s: task %d is %s, text %s", c, i, a, order[i])
				}
				pid, ok := tk.TaskStruct["pid"].(string)
				want := strconv.Itoa(int(tk.PID))
				if strings.Contains(c, "-x") {
					want = fmt.Sprintf("%#x", tk.PID)
				}
				if !ok || pid != want {
					t.Errorf("%s: task_struct.pid %v, want %s", c, tk.TaskStruct["pid"], want)
				}
				if !strings.Contains(text, "  pid = "+want+",\n") {
					t.Errorf("%s: text has no pid %s", c, want)
				}
				if comm, ok := tk.TaskStruct["comm"].(string); ok && !strings.Contains(text, "  comm = "+comm+",\n") {
					t.Errorf("%s: comm %s is not in the text", c, comm)
				}
				if strings.Contains(c, "se.on_rq") {
					v, ok := tk.TaskStruct["se.on_rq"].(string)
					if !ok || !strings.Contains(text, "  se.on_rq = "+v+",\n") {
						t.Errorf("%s: se.on_rq %v", c, tk.TaskStruct["se.on_rq"])
					}
				}
				if c == "task" {
					se, ok := tk.TaskStruct["se"].(map[string]any)
					if !ok || se["on_rq"] == nil {
						t.Errorf("task: no se.on_rq in %v", tk.TaskStruct["se"])
					}
				}
			}
		}
	})
}

// pageJSON is a kmem -p row as JSON gives it.
type pageJSON struct {
	Page      any      `json:"page"`
	Physical  any      `json:"physical"`
	Mapping   any      `json:"mapping"`
	Index     any      `json:"index"`
	Count     int      `json:"count"`
	Flags     any      `json:"flags"`
	FlagNames []string `json:"flag_names"`
}

func (p pageJSON) check(t *testing.T, c, line string) {
	t.Helper()
	f := strings.Fields(line)
	want := []string{fmt.Sprintf("%x", hexField(t, "page", p.Page)), fmt.Sprintf("%x", hexField(t, "physical", p.Physical)),
		fmt.Sprintf("%x", hexField(t, "mapping", p.Mapping)), fmt.Sprintf("%x", hexField(t, "index", p.Index)),
		strconv.Itoa(p.Count), fmt.Sprintf("%x", hexField(t, "flags", p.Flags))}
	if len(p.FlagNames) > 0 && hexField(t, "flags", p.Flags) != 0 {
		want = append(want, strings.Join(p.FlagNames, ","))
	}
	if strings.Join(f, " ") != strings.Join(want, " ") {
		t.Errorf("%s: page %v, text %q", c, want, line)
	}
}

var vtopLevelRE = regexp.MustCompile(`^ *([A-Z0-9]+): ([0-9a-f]+) => ([0-9a-f]+)$`)

// checkVtopJSON checks vtop's JSON against its text: the addresses, each
// level, the page, the flags, the VMA and the struct page.
func checkVtopJSON(t *testing.T, s *commands.Session, c string) {
	t.Helper()
	text := run(t, s, c)
	var d struct {
		Translations []struct {
			Virtual      any    `json:"virtual"`
			Accessible   bool   `json:"accessible"`
			Mapped       bool   `json:"mapped"`
			Physical     any    `json:"physical"`
			PGDDirectory any    `json:"pgd_directory"`
			Page         any    `json:"page"`
			PageSize     uint64 `json:"page_size"`
			Levels       []struct {
				Name      string `json:"name"`
				EntryAddr any    `json:"entry_addr"`
				Entry     any    `json:"entry"`
			} `json:"levels"`
			Flags []string `json:"flags"`
			VMA   *struct {
				VMA, Start, End, Flags any
				File                   string
			} `json:"vma"`
			StructPage *struct {
				Pages []pageJSON `json:"pages"`
			} `json:"struct_page"`
		} `json:"translations"`
	}
	jsonData(t, s, c, &d)
	blocks := strings.Split(text, "\nVIRTUAL ")
	if len(d.Translations) != len(blocks) {
		t.Fatalf("%s: %d translations, text has %d", c, len(d.Translations), len(blocks))
	}
	for i, v := range d.Translations {
		lines := strings.Split(strings.TrimSuffix(blocks[i], "\n"), "\n")
		addr := hexField(t, "virtual", v.Virtual)
		f := strings.Fields(lines[1])
		if f[0] != fmt.Sprintf("%x", addr) {
			t.Errorf("%s: virtual %x, text %q", c, addr, lines[1])
		}
		switch {
		case !v.Accessible:
			if lines[1] != fmt.Sprintf("%-10x  (not accessible)", addr) {
				t.Errorf("%s: not accessible, text %q", c, lines[1])
			}
			continue
		case !v.Mapped:
			if f[1] != "(not mapped)" {
				t.Errorf("%s: not mapped, text %q", c, lines[1])
			}
		default:
			if f[1] != fmt.Sprintf("%x", hexField(t, "physical", v.Physical)) {
				t.Errorf("%s: physical %v, text %q", c, v.Physical, lines[1])
			}
		}
		// An architecture with a vtop layout of its own (ppc64's linear-map
		// entry addresses, s390x's RTTE/STE lines, no walk shown for its
		// identity map) prints crash's lines for it, checked against the
		// walk by its own tests; here its levels' names and entries must
		// still be the JSON's where the text shows them, and its page
		// lines are its layout's.
		_, ownLayout := s.Kernel.Arch.(arch.VtopLayout)
		var textLevels []string
		rest := strings.Join(lines, "\n")
		for _, ln := range lines {
			if m := vtopLevelRE.FindStringSubmatch(ln); m != nil {
				if ownLayout {
					textLevels = append(textLevels, m[1]+" "+m[3])
				} else {
					textLevels = append(textLevels, m[1]+" "+m[2]+" "+m[3])
				}
			}
		}
		var jsonLevels []string
		for j, l := range v.Levels {
			if j == 0 && v.PGDDirectory != nil {
				want := fmt.Sprintf("PGD DIRECTORY: %x\nPAGE DIRECTORY: %x\n", hexField(t, "pgd", v.PGDDirectory), hexField(t, "entry", l.Entry))
				if !strings.Contains(rest, want) {
					t.Errorf("%s: no %q in the text", c, want)
				}
				continue
			}
			if ownLayout {
				jsonLevels = append(jsonLevels, fmt.Sprintf("%s %x", l.Name, hexField(t, "entry", l.Entry)))
			} else {
				jsonLevels = append(jsonLevels, fmt.Sprintf("%s %x %x", l.Name, hexField(t, "entry_addr", l.EntryAddr), hexField(t, "entry", l.Entry)))
			}
		}
		if ownLayout && len(textLevels) == 0 {
			jsonLevels = nil // no walk shown (s390x's identity map)
		}
		if ownLayout && len(textLevels) < len(jsonLevels) {
			jsonLevels = jsonLevels[:len(textLevels)] // the PTE is in the layout's own block
		}
		if strings.Join(textLevels, "\n") != strings.Join(jsonLevels, "\n") {
			t.Errorf("%s: levels\n%s\n--- text:\n%s", c, strings.Join(jsonLevels, "\n"), strings.Join(textLevels, "\n"))
		}
		if v.Mapped && !ownLayout {
			page := fmt.Sprintf("  PAGE: %x", hexField(t, "page", v.Page))
			flags := "  (" + strings.Join(v.Flags, "|") + ")\n"
			if !strings.Contains(rest, page) || !strings.Contains(rest+"\n", flags) || v.PageSize == 0 {
				t.Errorf("%s: page %s, flags %s, size %d; text:\n%s", c, page, flags, v.PageSize, rest)
			}
		}
		if v.VMA != nil {
			want := fmt.Sprintf("%x %x %x %x %s", hexField(t, "vma", v.VMA.VMA), hexField(t, "start", v.VMA.Start), hexField(t, "end", v.VMA.End), hexField(t, "flags", v.VMA.Flags), v.VMA.File)
			found := false
			for j, ln := range lines {
				if strings.HasPrefix(ln, "      VMA") && j+1 < len(lines) {
					found = strings.TrimSpace(strings.Join(strings.Fields(lines[j+1]), " ")) == strings.TrimSpace(want)
				}
			}
			if !found {
				t.Errorf("%s: VMA %s not in the text:\n%s", c, want, rest)
			}
		}
		if v.StructPage != nil {
			for j, ln := range lines {
				if strings.HasPrefix(ln, "      PAGE ") && j+1 < len(lines) && len(v.StructPage.Pages) == 1 {
					v.StructPage.Pages[0].check(t, c, lines[j+1])
				}
			}
		} else if strings.Contains(rest, "      PAGE ") {
			t.Errorf("%s: the text has a page line, the JSON none", c)
		}
	}
}
