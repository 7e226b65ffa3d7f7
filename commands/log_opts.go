package commands

import (
	"fmt"
	"io"
	"strings"
)

// AuditLog is log -a: the audit records still queued in the kernel.
type AuditLog struct {
	Records []AuditEntry `json:"records"`
}

// AuditEntry is one audit record.
type AuditEntry struct {
	Type uint16 `json:"type"`
	Text string `json:"text"`
}

func logAudit(s *Session) (Result, error) {
	recs, ok, err := s.Kernel.SysInfo().AuditQueues()
	if !ok {
		return nil, fmt.Errorf("-a option not supported or applicable on this architecture or kernel")
	}
	l := &AuditLog{Records: []AuditEntry{}}
	for _, r := range recs {
		l.Records = append(l.Records, AuditEntry{r.Type, r.Text})
	}
	return l, err
}

func (l *AuditLog) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	if len(l.Records) == 0 {
		tw.println("log: kernel audit log is empty")
	}
	for _, r := range l.Records {
		tw.printf("type=%d %s\n", r.Type, r.Text)
	}
	return tw.err
}

// SafeBuffers is log -s: the per-CPU printk safe buffers.
type SafeBuffers struct {
	Buffers []SafeBuffer `json:"buffers"`
	levels  bool
}

// SafeBuffer is one CPU's printk_safe_seq_buf.
type SafeBuffer struct {
	Name        string `json:"name"`
	CPU         int    `json:"cpu"`
	Addr        Hex    `json:"addr"`
	Len         int    `json:"len"`
	MessageLost int    `json:"message_lost"`
	Text        string `json:"text"`
}

func logSafe(s *Session, levels bool) (Result, error) {
	bufs, _, err := s.Kernel.SysInfo().PrintkSafeBufs()
	r := &SafeBuffers{Buffers: []SafeBuffer{}, levels: levels}
	for _, b := range bufs {
		r.Buffers = append(r.Buffers, SafeBuffer{Name: b.Name, CPU: b.CPU, Addr: Hex(b.Addr), Len: b.Len, MessageLost: b.MessageLost, Text: string(b.Text)})
	}
	return r, err
}

func (r *SafeBuffers) Text(w io.Writer) error {
	tw := &textWriter{w: w}
	for i, b := range r.Buffers {
		if i == 0 || r.Buffers[i-1].Name != b.Name {
			tw.printf("PRINTK_SAFE_SEQ_BUF: %s\n", b.Name)
		}
		tw.printf("CPU: %d  ADDR: %x LEN: %d  MESSAGE_LOST: %d\n", b.CPU, uint64(b.Addr), b.Len, b.MessageLost)
		if b.Len <= 0 {
			tw.printf("  (empty)\n\n")
			continue
		}
		tw.printf("%s\n", safeBufText(b.Text, r.levels))
	}
	return tw.err
}

// safeBufText lays out a safe buffer's records as crash does: each record
// (starting with SOH and its level) on a line indented by two, with its
// level as <N> when asked; other bytes that are not printable as '.'.
func safeBufText(text string, levels bool) string {
	indent := 2
	if levels {
		indent += 3
	}
	var b strings.Builder
	sol := true
	for i := 0; i < len(text); i++ {
		c := text[i]
		start := sol
		sol = false
		if c == 0x1 {
			i++
			if !start {
				b.WriteString("\n")
			}
			b.WriteString("  ")
			if levels && i < len(text) && (text[i] >= '0' && text[i] <= '7' || text[i] == 'c') {
				fmt.Fprintf(&b, "<%c>", text[i])
			}
			continue
		}
		if start {
			b.WriteString(strings.Repeat(" ", indent))
		}
		switch {
		case c == '\n':
			b.WriteByte(c)
			sol = true
		case c >= 0x20 && c < 0x7f || c == '\t' || c == '\v' || c == '\f' || c == '\r':
			b.WriteByte(c)
		default:
			b.WriteByte('.')
		}
	}
	if !sol {
		b.WriteString("\n")
	}
	return b.String()
}
