package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/evergo/evergo/scheduler"
	"go.uber.org/goleak"
)

// The fuzz test runs a random program on the loop and on a model of it: a
// plain FIFO simulation of the run queue and the virtual clock. The main
// task runs ops (spawn, yield, sleep, kill, join); each spawned task runs a
// script of yields and sleeps, counting its steps. The loop's schedule
// trace, each task's progress and each Join's result must match the model's.

type op struct {
	kind   byte // 's'pawn, 'y'ield, 'z' sleep, 'k'ill, 'j'oin
	arg    int  // spawn: script index; sleep: ms; kill, join: child index
	script []int
}

// decode turns fuzz bytes into the main task's ops; a child's script is a
// list of step durations in ms, 0 for a yield.
func decode(data []byte) []op {
	var ops []op
	children := 0
	for i := 0; i < len(data) && len(ops) < 64; i++ {
		b := data[i]
		switch b % 5 {
		case 0:
			n := int(b/5) % 5
			var script []int
			for j := 0; j < n && i+1 < len(data); j++ {
				i++
				script = append(script, int(data[i]%4)) // 0: yield, 1-3: sleep ms
			}
			ops = append(ops, op{kind: 's', script: script})
			children++
		case 1:
			ops = append(ops, op{kind: 'y'})
		case 2:
			ops = append(ops, op{kind: 'z', arg: int(b/5)%3 + 1})
		case 3:
			if children > 0 {
				ops = append(ops, op{kind: 'k', arg: int(b/5) % children})
			}
		case 4:
			if children > 0 {
				ops = append(ops, op{kind: 'j', arg: int(b/5) % children})
			}
		}
	}
	return ops
}

// outcome is what a run shows.
type outcome struct {
	trace    []uint64
	progress []int    // steps each child completed
	joins    []string // each Join's result: "ok" or "killed"
}

func (o outcome) String() string {
	return fmt.Sprintf("trace %v\nprogress %v\njoins %v", o.trace, o.progress, o.joins)
}

func runReal(t *testing.T, ops []op) outcome {
	var o outcome
	var tr scheduler.Trace
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		var kids []*scheduler.Task
		for _, p := range ops {
			switch p.kind {
			case 's':
				k := len(o.progress)
				o.progress = append(o.progress, 0)
				task, err := scheduler.Go(ctx, func(ctx context.Context) error {
					for _, ms := range p.script {
						if err := scheduler.Sleep(ctx, time.Duration(ms)*time.Millisecond); err != nil {
							return err
						}
						o.progress[k]++
					}
					return nil
				})
				if err != nil {
					return err
				}
				kids = append(kids, task)
			case 'y':
				scheduler.Sleep(ctx, 0)
			case 'z':
				scheduler.Sleep(ctx, time.Duration(p.arg)*time.Millisecond)
			case 'k':
				if err := kids[p.arg].Kill(ctx); err != nil {
					return err
				}
			case 'j':
				switch err := kids[p.arg].Join(ctx); {
				case err == nil:
					o.joins = append(o.joins, "ok")
				case errors.Is(err, scheduler.ErrKilled):
					o.joins = append(o.joins, "killed")
				default:
					return err
				}
			}
		}
		return nil
	}, scheduler.WithVirtualClock(), scheduler.WithTrace(&tr))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	o.trace = tr
	return o
}

// model simulates the loop: FIFO run queue, virtual clock, timers ordered
// by deadline then by when they were set.
type model struct {
	o      outcome
	ready  []int // task indexes: 0 is main, k+1 is child k
	timers []mtimer
	seq    int
	now    int
	pc     []int   // next op or step of each task
	ended  []bool  // per task
	killed []bool  // per task
	joiner [][]int // tasks parked joining each task, in order
	ops    []op
}

type mtimer struct{ when, seq, task int }

func runModel(ops []op) outcome {
	m := &model{ops: ops, ready: []int{0}, pc: []int{0}, ended: []bool{false},
		killed: []bool{false}, joiner: [][]int{nil}}
	for {
		if len(m.ready) == 0 {
			if len(m.timers) == 0 {
				return m.o
			}
			m.now = m.timers[0].when
			for len(m.timers) > 0 && m.timers[0].when <= m.now {
				m.ready = append(m.ready, m.timers[0].task)
				m.timers = m.timers[1:]
			}
		}
		task := m.ready[0]
		m.ready = m.ready[1:]
		if m.ended[task] {
			continue
		}
		m.o.trace = append(m.o.trace, uint64(task+1))
		m.step(task)
	}
}

func (m *model) sleep(task, ms int) {
	if ms == 0 {
		m.ready = append(m.ready, task)
		return
	}
	m.seq++
	tm := mtimer{when: m.now + ms, seq: m.seq, task: task}
	i, _ := slices.BinarySearchFunc(m.timers, tm, func(a, b mtimer) int {
		if a.when != b.when {
			return a.when - b.when
		}
		return a.seq - b.seq
	})
	m.timers = slices.Insert(m.timers, i, tm)
}

func (m *model) end(task int) {
	m.ended[task] = true
	m.ready = append(m.ready, m.joiner[task]...)
	m.joiner[task] = nil
	m.timers = slices.DeleteFunc(m.timers, func(tm mtimer) bool { return tm.task == task })
}

// step runs task until its next switch point.
func (m *model) step(task int) {
	if task > 0 { // a child: the step it resumes from is done
		k := task - 1
		script := m.ops[m.childOp(k)].script
		if m.pc[task] > 0 {
			m.o.progress[k]++
		}
		if m.pc[task] == len(script) {
			m.end(task)
			return
		}
		m.pc[task]++
		m.sleep(task, script[m.pc[task]-1])
		return
	}
	for m.pc[0] < len(m.ops) {
		p := m.ops[m.pc[0]]
		m.pc[0]++
		switch p.kind {
		case 's':
			m.o.progress = append(m.o.progress, 0)
			m.pc = append(m.pc, 0)
			m.ended = append(m.ended, false)
			m.killed = append(m.killed, false)
			m.joiner = append(m.joiner, nil)
			m.ready = append(m.ready, len(m.pc)-1)
		case 'y':
			m.sleep(0, 0)
			return
		case 'z':
			m.sleep(0, p.arg)
			return
		case 'k':
			if c := p.arg + 1; !m.ended[c] {
				m.killed[c] = true
				m.end(c)
			}
		case 'j':
			c := p.arg + 1
			if !m.ended[c] {
				m.joiner[c] = append(m.joiner[c], 0)
				m.pc[0]-- // re-run the join when woken: it finds c ended
				return
			}
			if m.killed[c] {
				m.o.joins = append(m.o.joins, "killed")
			} else {
				m.o.joins = append(m.o.joins, "ok")
			}
		}
	}
	m.end(0)
}

// childOp returns the index of the op that spawned child k.
func (m *model) childOp(k int) int {
	for i, p := range m.ops {
		if p.kind == 's' {
			if k == 0 {
				return i
			}
			k--
		}
	}
	panic("no such child")
}

func FuzzLoopMatchesModel(f *testing.F) {
	f.Add([]byte{0, 1, 2, 4})
	f.Add([]byte{5, 1, 2, 10, 3, 0, 1, 3, 4, 9})
	f.Add([]byte{10, 1, 1, 15, 0, 2, 3, 4, 8, 3, 9, 14, 2, 7})
	f.Add([]byte{20, 3, 3, 3, 3, 0, 13, 4, 1, 2, 12, 19})
	f.Fuzz(func(t *testing.T, data []byte) {
		ops := decode(data)
		want := runModel(ops)
		got := runReal(t, ops)
		if !slices.Equal(got.trace, want.trace) || !slices.Equal(got.progress, want.progress) ||
			!slices.Equal(got.joins, want.joins) {
			t.Fatalf("ops %v\nloop:\n%v\nmodel:\n%v", ops, got, want)
		}
		goleak.VerifyNone(t, goleak.IgnoreCurrent())
	})
}
