package kernel

import (
	"fmt"

	"github.com/gocrash/gocrash/symbols"
)

// blk-mq: the requests in flight of a multi-queue block device, as crash
// 8.0.2's dev -d counts them.

// mqRqInFlight is enum mq_rq_state's MQ_RQ_IN_FLIGHT; reqOpMask is
// REQ_OP_MASK (the operation's bits of request.cmd_flags, whose lowest
// bit says a write: op_is_write).
const (
	mqRqInFlight = 1
	reqOpMask    = 1<<8 - 1
)

// mqInFlight counts the requests in flight of the blk-mq queue q, reads
// and writes. On kernels whose struct request has state (4.18 and later):
// each hardware context's tags (request_queue.hctx_table, an xarray, on
// 5.18 and later, else queue_hw_ctx[nr_hw_queues]), every tag set in the
// reserved, then the normal, sbitmap_queue whose request (tags->rqs[tag])
// belongs to q and is MQ_RQ_IN_FLIGHT. On older kernels: the per-CPU
// blk_mq_ctx's dispatched less completed requests.
func (v *Devices) mqInFlight(q uint64) (read, write uint64, err error) {
	o := v.d.obj()
	if !o.has("request", "state") {
		return v.mqCtxInFlight(q)
	}
	hctxs, err := v.hwContexts(q)
	if err != nil {
		return 0, 0, err
	}
	bitmapPtr := false
	if t, err := v.d.memberType("blk_mq_tags", "bitmap_tags"); err == nil && t.Kind == symbols.TypePointer {
		bitmapPtr = true
	}
	tagsOff := o.off("blk_mq_hw_ctx", "tags")
	nrRes := o.off("blk_mq_tags", "nr_reserved_tags")
	bitmap := o.off("blk_mq_tags", "bitmap_tags")
	breserved := o.off("blk_mq_tags", "breserved_tags")
	rqsOff := o.off("blk_mq_tags", "rqs")
	rqQ := o.off("request", "q")
	rqFlags := o.off("request", "cmd_flags")
	rqState := o.off("request", "state")
	if o.err != nil {
		return 0, 0, o.err
	}
	for _, h := range hctxs {
		tags := o.u64(h + tagsOff)
		nres := o.u32(tags + nrRes)
		rqs := o.u64(tags + rqsOff)
		if o.err != nil {
			return read, write, fmt.Errorf("blk_mq_hw_ctx %x: %w", h, o.err)
		}
		for _, reserved := range []bool{true, false} {
			if reserved && nres == 0 {
				continue
			}
			sbq := tags + bitmap
			if reserved {
				sbq = tags + breserved
			}
			if bitmapPtr {
				sbq = o.u64(sbq)
			}
			err := v.sbitmapEachSet(o, sbq+o.off("sbitmap_queue", "sb"), func(bit uint64) error {
				if !reserved {
					bit += uint64(nres)
				}
				rq := o.u64(rqs + 8*bit)
				if rq == 0 {
					return o.err
				}
				rq2 := v.d.obj()
				if rq2.u64(rq+rqQ) == q && rq2.u32(rq+rqState) == mqRqInFlight {
					if rq2.u32(rq+rqFlags)&reqOpMask&1 != 0 {
						write++
					} else {
						read++
					}
				}
				if rq2.err != nil {
					return fmt.Errorf("request %x: %w", rq, rq2.err)
				}
				return o.err
			})
			if err == nil {
				err = o.err
			}
			if err != nil {
				return read, write, fmt.Errorf("blk_mq_tags %x: %w", tags, err)
			}
		}
	}
	return read, write, nil
}

// hwContexts lists the queue's hardware contexts (struct blk_mq_hw_ctx).
func (v *Devices) hwContexts(q uint64) ([]uint64, error) {
	o := v.d.obj()
	if o.has("request_queue", "hctx_table") {
		ents, err := v.d.walkXArray(q + o.off("request_queue", "hctx_table"))
		var out []uint64
		for _, e := range ents {
			out = append(out, e.Value)
		}
		return out, err
	}
	n := o.u32(q + o.off("request_queue", "nr_hw_queues"))
	arr := o.u64(q + o.off("request_queue", "queue_hw_ctx"))
	if o.err != nil {
		return nil, o.err
	}
	if n > 4096 {
		return nil, fmt.Errorf("%d hardware queues is not believable", n)
	}
	out := make([]uint64, 0, n)
	for i := uint64(0); i < uint64(n); i++ {
		out = append(out, o.u64(arr+8*i))
	}
	return out, o.err
}

// sbitmapEachSet calls fn with each bit set (and not cleared) of the
// struct sbitmap at sb, in order: word by word of its map, each word's
// depth the sbitmap's 1<<shift but for the last word's remainder.
func (v *Devices) sbitmapEachSet(o *obj, sb uint64, fn func(bit uint64) error) error {
	depth := uint64(o.u32(sb + o.off("sbitmap", "depth")))
	shift := o.u32(sb + o.off("sbitmap", "shift"))
	mapNr := uint64(o.u32(sb + o.off("sbitmap", "map_nr")))
	words := o.u64(sb + o.off("sbitmap", "map"))
	wsize := o.size("sbitmap_word")
	wword := o.off("sbitmap_word", "word")
	hasCleared := o.has("sbitmap_word", "cleared")
	var wcleared uint64
	if hasCleared {
		wcleared = o.off("sbitmap_word", "cleared")
	}
	if o.err != nil {
		return o.err
	}
	if shift > 6 || mapNr > 1<<20 {
		return fmt.Errorf("sbitmap %x: shift %d, %d words is not believable", sb, shift, mapNr)
	}
	scanned := uint64(0)
	for i := uint64(0); i < mapNr && scanned < depth; i++ {
		wd := uint64(1) << shift
		if i == mapNr-1 {
			wd = depth - i<<shift
		}
		wd = min(wd, depth-scanned)
		scanned += wd
		w := words + i*wsize
		word := o.u64(w + wword)
		if hasCleared {
			word &^= o.u64(w + wcleared)
		}
		if o.err != nil {
			return fmt.Errorf("sbitmap_word %x: %w", w, o.err)
		}
		for b := uint64(0); b < wd && b < 64; b++ {
			if word&(1<<b) == 0 {
				continue
			}
			if err := fn(i<<shift + b); err != nil {
				return err
			}
		}
	}
	return nil
}

// mqCtxInFlight is the older blk-mq count: each CPU's blk_mq_ctx of the
// queue (request_queue.queue_ctx, per-CPU), rq_dispatched less
// rq_completed, reads and writes.
func (v *Devices) mqCtxInFlight(q uint64) (read, write uint64, err error) {
	o := v.d.obj()
	ctx := o.u64(q + o.off("request_queue", "queue_ctx"))
	disp := o.off("blk_mq_ctx", "rq_dispatched")
	comp := o.off("blk_mq_ctx", "rq_completed")
	if o.err != nil {
		return 0, 0, o.err
	}
	n, err := v.d.cpus()
	if err != nil {
		return 0, 0, err
	}
	for cpu := 0; cpu < n; cpu++ {
		off, err := v.d.sys.PerCPUOffset(cpu)
		if err != nil {
			return read, write, err
		}
		c := ctx + off
		read += uint64(int64(int32(o.u64(c+disp) - o.u64(c+comp))))
		write += uint64(int64(int32(o.u64(c+disp+8) - o.u64(c+comp+8))))
	}
	return read, write, o.err
}
