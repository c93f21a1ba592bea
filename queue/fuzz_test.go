package queue_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evergo/evergo/queue"
	"github.com/evergo/evergo/scheduler"
)

// FuzzQueue runs a random program of operations by several tasks on one
// loop, on a bounded FIFO queue, against a model of the queue that the
// package doc describes. The model is kept in step with every call: it
// decides what each call must return (which item, which error, whether it
// parks), and a parked call's result when it resumes. The tasks' states,
// read from the scheduler, say which parked calls still wait, as waitq's
// Front does; nothing else is taken from the code under test.
//
// Checked: every call's result; no item lost or taken twice (what went in
// is taken out exactly once, by the end); items leave in FIFO order (until
// a killed Get gives one back); Len never exceeds Cap but by the items
// given back; no task stays parked in Get beside an item, nor in Put beside
// room (no lost wake-up); and the loop ends without a deadlock.
//
// Encoding: 3 header bytes (Cap 1..4, 1..4 worker tasks, 0 for FIFO
// scheduling or a WithSeed seed), then 3 bytes a step: who (0: the main
// task, the driver; else a worker), the operation, its argument.
func FuzzQueue(f *testing.F) {
	const (
		drv = 0
		w1  = 1
		w2  = 2
		w3  = 3
	)
	step := func(who, op, arg byte) []byte { return []byte{who, op, arg} }
	prog := func(cap, workers, seed byte, steps ...[]byte) []byte {
		b := []byte{cap - 1, workers - 1, seed}
		for _, s := range steps {
			b = append(b, s...)
		}
		return b
	}
	// Gets and Puts meeting in both directions.
	f.Add(prog(2, 3, 0,
		step(w1, wGet, 0), step(w2, wGet, 0), step(w3, wPut, 0), step(w3, wPut, 0), step(w3, wPut, 0),
		step(w3, wPut, 0), step(w3, wPut, 0), step(drv, dYield, 0), step(w1, wGet, 0), step(w2, wTaskDone, 0),
		step(drv, dTryGet, 0), step(w1, wTaskDone, 0), step(w2, wTryPut, 0), step(drv, dTryPut, 0)))
	// Kills of Gets handed an item before they resumed, and of a parked Put.
	f.Add(prog(1, 3, 0,
		step(w1, wGet, 0), step(w2, wGet, 0), step(drv, dYield, 0), step(drv, dTryPut, 0),
		step(drv, dTryPut, 0), step(drv, dTryPut, 0), step(drv, dKill, 0), step(drv, dKill, 1),
		step(w3, wPut, 0), step(drv, dYield, 0), step(drv, dKill, 2), step(drv, dTryGet, 0),
		step(drv, dTryGet, 0), step(drv, dTryGet, 0)))
	// Deadlines: timed Gets and Puts, some passed over, some served.
	f.Add(prog(1, 3, 0,
		step(w1, wGetTimed, 0), step(w2, wGetTimed, 2), step(w1, wPut, 0), step(w1, wPutTimed, 1),
		step(w3, wYield, 0), step(w3, wPut, 0), step(drv, dAdvance, 1), step(drv, dTryPut, 0),
		step(drv, dAdvance, 2), step(drv, dTryGet, 0), step(w2, wGetTimed, 3), step(drv, dAdvance, 4),
		step(w3, wTaskDone, 0)))
	// Random programs, one under WithSeed scheduling.
	r := rand.New(rand.NewPCG(1, 2))
	for _, seed := range []byte{0, 3} {
		b := prog(3, 4, seed)
		for range 120 {
			b = append(b, byte(r.IntN(5)), byte(r.IntN(256)), byte(r.IntN(256)))
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		runFuzzProgram(t, decodeFuzzProgram(data))
	})
}

const (
	fuzzUnit   = 30 * time.Minute // of deadlines and clock advances: virtual, far beyond the run's wall time
	fuzzMaxOps = 300
)

// A worker's operations.
const (
	wPut      = iota
	wPutTimed // with a deadline of 1..4 units
	wGet
	wGetTimed
	wTryPut
	wTryGet
	wTaskDone
	wYield
	wOps
)

// The driver's operations.
const (
	dKill    = iota // a worker, wherever it is
	dAdvance        // the virtual clock, by sleeping 0..4 units
	dYield
	dTryPut
	dTryGet
	dOps
)

var (
	workerOpNames = [...]string{"Put", "PutTimed", "Get", "GetTimed", "TryPut", "TryGet", "TaskDone", "Yield"}
	driverOpNames = [...]string{"Kill", "Advance", "Yield", "TryPut", "TryGet"}
)

type fuzzStep struct{ who, op, arg int }

func (s fuzzStep) String() string {
	if s.who == 0 {
		return fmt.Sprintf("main %s(%d)", driverOpNames[s.op], s.arg)
	}
	return fmt.Sprintf("w%d %s(%d)", s.who, workerOpNames[s.op], s.arg)
}

type fuzzProgram struct {
	cap     int
	seed    uint64 // 0: FIFO scheduling
	workers [][]fuzzStep
	driver  []fuzzStep
}

func decodeFuzzProgram(data []byte) fuzzProgram {
	p := fuzzProgram{cap: 1, workers: make([][]fuzzStep, 2)}
	if len(data) >= 3 {
		p.cap = 1 + int(data[0]%4)
		p.workers = make([][]fuzzStep, 1+int(data[1]%4))
		p.seed = uint64(data[2] % 4)
		data = data[3:]
	}
	for n := 0; len(data) >= 3 && n < fuzzMaxOps; n++ {
		s := fuzzStep{who: int(data[0]) % (len(p.workers) + 1), op: int(data[1]), arg: int(data[2])}
		if s.who == 0 {
			s.op %= dOps
			p.driver = append(p.driver, s)
		} else {
			s.op %= wOps
			p.workers[s.who-1] = append(p.workers[s.who-1], s)
		}
		data = data[3:]
	}
	return p
}

// Where a worker is.
const (
	inNone = iota
	inGet
	inPut
)

type fuzzPutter struct{ w, v int }

// fuzzQueue is a queue under test, its tasks and its model.
type fuzzQueue struct {
	q      *queue.Queue[int]
	tasks  []*scheduler.Task // the workers
	in     []int             // per worker: the queue call it is in
	killed []bool

	// The model.
	cap        int
	buf        []int
	getters    []int        // workers in Get, in arrival order; front drops those no longer parked
	putters    []fuzzPutter // workers in Put on a full queue, with their items
	handed     map[int]int  // worker → the item handed to its parked Get
	letIn      map[int]bool // worker → its parked Put's item went in
	unfinished int
	shut       bool
	gaveBack   int          // items killed Gets gave back to the queue
	back       int          // of those, the ones still at the front of buf
	reordered  bool         // a killed Get gave an item back: FIFO is not checked from then on
	out        []int        // items in the order they left the queue
	entered    map[int]bool // items that went in
	taken      map[int]bool // items Get and TryGet returned
	next       int          // the next item: items are numbered in the order of their Puts

	ops  int // steps begun by anyone: a call that parks sees it change
	log  []fuzzStep
	errs []string
}

func (h *fuzzQueue) failf(format string, args ...any) {
	if len(h.errs) < 5 {
		h.errs = append(h.errs, fmt.Sprintf(format, args...))
	}
}

func runFuzzProgram(t *testing.T, p fuzzProgram) {
	h := &fuzzQueue{
		q: queue.New[int](p.cap), cap: p.cap,
		in: make([]int, len(p.workers)), killed: make([]bool, len(p.workers)),
		handed: map[int]int{}, letIn: map[int]bool{}, entered: map[int]bool{}, taken: map[int]bool{},
	}
	opts := []scheduler.Option{scheduler.WithVirtualClock()}
	if p.seed != 0 {
		opts = append(opts, scheduler.WithSeed(p.seed))
	}
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		for w, steps := range p.workers {
			h.tasks = append(h.tasks, spawn(ctx, func(ctx context.Context) error { return h.worker(ctx, w, steps) }))
		}
		for _, s := range p.driver {
			if len(h.errs) > 0 {
				break
			}
			h.begin(s)
			switch s.op {
			case dKill:
				h.kill(ctx, s.arg%len(h.tasks))
			case dAdvance:
				sleep(ctx, fuzzUnit*time.Duration(s.arg%5))
			case dYield:
				yield(ctx)
			case dTryPut:
				h.tryPut()
			case dTryGet:
				h.tryGet()
			}
			h.check()
		}
		h.finish(ctx)
		return nil
	}, opts...)
	if err != nil {
		h.failf("Run: %v", err)
	}
	if len(h.errs) > 0 {
		tail := h.log[max(0, len(h.log)-60):]
		steps := make([]string, len(tail))
		for i, s := range tail {
			steps[i] = s.String()
		}
		t.Fatalf("Cap %d, %d workers, seed %d:\n%s\nlast steps:\n%s",
			p.cap, len(p.workers), p.seed, strings.Join(h.errs, "\n"), strings.Join(steps, "\n"))
	}
}

func (h *fuzzQueue) begin(s fuzzStep) {
	h.ops++
	h.log = append(h.log, s)
}

func (h *fuzzQueue) worker(ctx context.Context, w int, steps []fuzzStep) error {
	for _, s := range steps {
		if len(h.errs) > 0 {
			return nil
		}
		h.begin(s)
		switch s.op {
		case wPut, wPutTimed:
			h.put(ctx, w, s.op == wPutTimed, s.arg)
		case wGet, wGetTimed:
			h.get(ctx, w, s.op == wGetTimed, s.arg)
		case wTryPut:
			h.tryPut()
		case wTryGet:
			h.tryGet()
		case wTaskDone:
			h.taskDone()
		case wYield:
			yield(ctx)
		}
		h.check()
	}
	return nil
}

// deadline returns ctx, or ctx with a deadline of 1..4 units.
func deadline(ctx context.Context, timed bool, arg int) (context.Context, context.CancelFunc) {
	if !timed {
		return ctx, func() {}
	}
	return within(ctx, fuzzUnit*time.Duration(1+arg%4))
}

func (h *fuzzQueue) put(ctx context.Context, w int, timed bool, arg int) {
	pctx, cancel := deadline(ctx, timed, arg)
	defer cancel()
	v := h.item()
	ops, now := h.ops, scheduler.Now(ctx)
	var want error
	parks := false
	switch {
	case h.shut:
		want = queue.ErrShutdown
	case h.offer(v):
	default:
		parks = true
		h.putters = append(h.putters, fuzzPutter{w, v})
	}
	h.in[w] = inPut
	err := h.q.Put(pctx, v)
	h.in[w] = inNone
	if !parks {
		if err != want {
			h.failf("w%d: Put(%d) = %v, want %v", w+1, v, err, want)
		}
		h.atOnce(ctx, fmt.Sprintf("w%d: Put(%d)", w+1, v), ops, now)
		return
	}
	in := h.letIn[w]
	delete(h.letIn, w)
	h.putters = slices.DeleteFunc(h.putters, func(p fuzzPutter) bool { return p.w == w })
	switch {
	case err == nil && in:
	case errors.Is(err, context.DeadlineExceeded) && timed && !in:
	case errors.Is(err, queue.ErrShutdown) && h.shut && !in:
	default:
		h.failf("w%d: parked Put(%d) = %v; the model let its item in: %v", w+1, v, err, in)
	}
}

func (h *fuzzQueue) get(ctx context.Context, w int, timed bool, arg int) {
	gctx, cancel := deadline(ctx, timed, arg)
	defer cancel()
	ops, now := h.ops, scheduler.Now(ctx)
	want, wantErr, parks := 0, error(nil), false
	switch {
	case len(h.buf) > 0:
		want = h.take()
	case h.shut:
		wantErr = queue.ErrShutdown
	default:
		parks = true
		h.getters = append(h.getters, w)
	}
	h.in[w] = inGet
	v, err := h.q.Get(gctx)
	h.in[w] = inNone
	if !parks {
		if v != want || err != wantErr {
			h.failf("w%d: Get = %d, %v, want %d, %v", w+1, v, err, want, wantErr)
		}
		h.atOnce(ctx, fmt.Sprintf("w%d: Get", w+1), ops, now)
	} else {
		hv, handed := h.handed[w]
		delete(h.handed, w)
		h.getters = slices.DeleteFunc(h.getters, func(g int) bool { return g == w })
		switch {
		case err == nil && handed && v == hv:
		case errors.Is(err, context.DeadlineExceeded) && timed && !handed:
		case errors.Is(err, queue.ErrShutdown) && h.shut && !handed:
		default:
			h.failf("w%d: parked Get = %d, %v; the model handed it %d: %v", w+1, v, err, hv, handed)
		}
	}
	if err == nil {
		h.takeOut(v)
	}
}

func (h *fuzzQueue) tryPut() {
	v := h.item()
	var want error
	switch {
	case h.shut:
		want = queue.ErrShutdown
	case !h.offer(v):
		want = queue.ErrFull
	}
	if err := h.q.TryPut(v); err != want {
		h.failf("TryPut(%d) = %v, want %v", v, err, want)
	}
}

func (h *fuzzQueue) tryGet() {
	want, wantErr := 0, error(nil)
	switch {
	case len(h.buf) > 0:
		want = h.take()
	case h.shut:
		wantErr = queue.ErrShutdown
	default:
		wantErr = queue.ErrEmpty
	}
	v, err := h.q.TryGet()
	if v != want || err != wantErr {
		h.failf("TryGet = %d, %v, want %d, %v", v, err, want, wantErr)
	}
	if err == nil {
		h.takeOut(v)
	}
}

func (h *fuzzQueue) taskDone() {
	var want any = "queue: TaskDone called more times than items were put"
	if h.unfinished > 0 {
		h.unfinished--
		want = nil
	}
	if p := panicOf(h.q.TaskDone); p != want {
		h.failf("TaskDone with %d items not done panicked with %v", h.unfinished, p)
	}
}

// kill kills worker w, wherever it is: the model first, as Kill's hook does.
func (h *fuzzQueue) kill(ctx context.Context, w int) {
	switch h.in[w] {
	case inGet:
		if v, ok := h.handed[w]; ok { // handed an item, not resumed yet
			delete(h.handed, w)
			h.reordered = true
			if g, ok := h.frontGetter(); ok {
				h.getters = h.getters[1:]
				h.handed[g] = v
			} else { // among the items given back, in the order they were put
				i := 0
				for i < h.back && h.buf[i] < v {
					i++
				}
				h.buf = slices.Insert(h.buf, i, v)
				h.back++
				h.gaveBack++
			}
		}
		h.getters = slices.DeleteFunc(h.getters, func(g int) bool { return g == w })
	case inPut:
		delete(h.letIn, w) // if it was let in, its item stays in
		h.putters = slices.DeleteFunc(h.putters, func(p fuzzPutter) bool { return p.w == w })
	}
	h.in[w] = inNone
	h.killed[w] = true
	if err := h.tasks[w].Kill(ctx); err != nil {
		h.failf("Kill of w%d = %v", w+1, err)
	}
}

// finish lets the workers run until each has ended or parked for good,
// shuts the queue down, joins them and drains the queue.
func (h *fuzzQueue) finish(ctx context.Context) {
	for busy := true; busy && len(h.errs) == 0; {
		busy = false
		for _, task := range h.tasks {
			if s := task.State(); s != scheduler.StateParked && s != scheduler.StateEnded {
				busy = true
			}
		}
		if busy {
			yield(ctx)
		}
	}
	h.check()
	h.shut = true // and Shutdown wakes every parked Get and Put
	h.getters, h.putters = nil, nil
	h.q.Shutdown()
	for w, task := range h.tasks {
		if err := task.Join(ctx); err != nil && !(h.killed[w] && errors.Is(err, scheduler.ErrKilled)) {
			h.failf("w%d ended with %v", w+1, err)
		}
	}
	for len(h.buf) > 0 && len(h.errs) == 0 {
		h.tryGet()
	}
	h.tryGet() // ErrShutdown
	if len(h.handed) > 0 || len(h.letIn) > 0 {
		h.failf("the model still holds items for ended workers: %v, %v", h.handed, h.letIn)
	}
	for v := range h.entered {
		if !h.taken[v] {
			h.failf("item %d went in and never came out", v)
		}
	}
}

// check checks what must hold between any two steps.
func (h *fuzzQueue) check() {
	n := h.q.Len()
	if n != len(h.buf) {
		h.failf("Len = %d, the model holds %d: %v", n, len(h.buf), h.buf)
	}
	if n > h.cap+h.gaveBack || n > h.cap && !h.reordered {
		h.failf("Len = %d over Cap %d, with %d items given back", n, h.cap, h.gaveBack)
	}
	for w, task := range h.tasks {
		if task.State() != scheduler.StateParked {
			continue
		}
		if h.in[w] == inGet && n > 0 || h.in[w] == inPut && n < h.cap {
			h.failf("lost wake-up: w%d parked in %s with Len %d, Cap %d", w+1, [...]string{"", "Get", "Put"}[h.in[w]], n, h.cap)
		}
	}
}

// atOnce checks that a call the model says does not park did not.
func (h *fuzzQueue) atOnce(ctx context.Context, what string, ops int, now time.Time) {
	if h.ops != ops || !scheduler.Now(ctx).Equal(now) {
		h.failf("%s parked; want it done at once", what)
	}
}

func (h *fuzzQueue) item() int {
	h.next++
	return h.next
}

// frontGetter is waitq's Front on the model's getters.
func (h *fuzzQueue) frontGetter() (int, bool) {
	for len(h.getters) > 0 {
		if g := h.getters[0]; h.tasks[g].State() == scheduler.StateParked {
			return g, true
		}
		h.getters = h.getters[1:]
	}
	return 0, false
}

// offer is the model's: v goes to the first parked Get, or into the queue
// if it has room.
func (h *fuzzQueue) offer(v int) bool {
	if g, ok := h.frontGetter(); ok {
		h.getters = h.getters[1:]
		h.handed[g] = v
		h.enter(v)
		h.leave(v)
		return true
	}
	if len(h.buf) >= h.cap {
		return false
	}
	h.buf = append(h.buf, v)
	h.enter(v)
	return true
}

// take is the model's: the front item out, and the first parked Put's in
// if that made room.
func (h *fuzzQueue) take() int {
	v := h.buf[0]
	h.buf = h.buf[1:]
	if h.back > 0 {
		h.back--
	}
	h.leave(v)
	if len(h.buf) >= h.cap {
		return v
	}
	for len(h.putters) > 0 {
		p := h.putters[0]
		h.putters = h.putters[1:]
		if h.tasks[p.w].State() == scheduler.StateParked {
			h.buf = append(h.buf, p.v)
			h.enter(p.v)
			h.letIn[p.w] = true
			break
		}
	}
	return v
}

func (h *fuzzQueue) enter(v int) {
	h.unfinished++
	h.entered[v] = true
}

func (h *fuzzQueue) leave(v int) {
	if !h.reordered && len(h.out) > 0 && v <= h.out[len(h.out)-1] {
		h.failf("FIFO: item %d left the queue after item %d", v, h.out[len(h.out)-1])
	}
	h.out = append(h.out, v)
}

func (h *fuzzQueue) takeOut(v int) {
	if h.taken[v] {
		h.failf("item %d taken twice", v)
	}
	if !h.entered[v] {
		h.failf("item %d taken, never put", v)
	}
	h.taken[v] = true
}
