package prefork

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// The states of a worker process, as the supervisor sees them. Every
// transition happens on Run's goroutine:
//
//	starting → serving   it wrote its readiness byte (fd 4)
//	starting → exited    it died, or closed fd 4 without the byte: restarted with backoff (if its set still serves)
//	serving  → exited    it died unasked: restarted with backoff (if its set still serves)
//	starting → draining  SIGTERM: a reload's newer set is ready, another reload came, or the supervisor stops
//	serving  → draining  SIGTERM, as above
//	draining → exited    it drained and exited (or was killed ShutdownTimeout+5 s after SIGTERM): never restarted
type state uint8

const (
	starting state = iota
	serving
	draining
	exited
)

func (s state) String() string {
	return [...]string{"starting", "serving", "draining", "exited"}[s]
}

// A process is one worker process. Owned by Run's goroutine, except cmd,
// which its watch goroutine waits on.
type process struct {
	gen    *generation
	slot   int
	cmd    *exec.Cmd
	pid    int
	state  state
	start  time.Time
	killAt time.Time // draining: when SIGKILL is due
}

// A generation is the set of workers one start or reload made: a slot per
// worker, each holding its current process and its restart backoff.
type generation struct {
	id      int
	procs   []*process      // per slot: the live process, or nil
	delay   []time.Duration // per slot: the next restart's delay
	due     []time.Time     // per slot: when a restart is due (zero: none)
	ready   []bool          // per slot: a process of the slot has been ready
	retired bool            // told to drain: its slots restart no more
}

func (g *generation) allReady() bool {
	for _, r := range g.ready {
		if !r {
			return false
		}
	}
	return true
}

// An event is a watch goroutine's news of a process.
type event struct {
	p     *process
	ready bool  // else: exited
	err   error // exited: Wait's error
}

// run is one Run call's state, owned by its goroutine.
type run struct {
	s       *Supervisor
	log     *slog.Logger
	n       int
	timeout time.Duration
	sock    *os.File
	command func() *exec.Cmd

	events   chan event
	live     map[*process]struct{} // started and not yet seen to exit
	gens     []*generation         // not retired, oldest first
	serving  *generation           // the newest generation that has been all ready
	nextGen  int
	stopping bool
	anyReady bool  // some worker has been ready: a Start error is then retried, not returned
	failed   error // a Start error before any worker was ready: Run stops and returns it
}

func (r *run) loop(ctx context.Context, sigs <-chan os.Signal) error {
	r.startGeneration()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	done := ctx.Done()
	for {
		if r.stopping && len(r.live) == 0 {
			r.log.Info("stopped", "pid", os.Getpid())
			return r.failed
		}
		var wake <-chan time.Time
		if at := r.nextWake(); !at.IsZero() {
			timer.Reset(time.Until(at))
			wake = timer.C
		}
		select {
		case sig := <-sigs:
			switch {
			case sig == syscall.SIGHUP && !r.stopping:
				r.reload()
			case sig == syscall.SIGHUP:
			case r.stopping:
				r.log.Warn("second stop signal: killing the workers", "signal", sig.String())
				r.killAll()
			default:
				r.log.Info("stopping: draining the workers", "signal", sig.String())
				r.stop()
			}
		case <-done:
			done = nil
			if !r.stopping {
				r.log.Info("stopping: draining the workers", "reason", context.Cause(ctx).Error())
				r.stop()
			}
		case ev := <-r.events:
			if ev.ready {
				r.ready(ev.p)
			} else {
				r.exited(ev.p, ev.err)
			}
		case <-wake:
			r.due(time.Now())
		}
		timer.Stop() // (Go 1.23 timers: no stale tick is left in C)
	}
}

// startGeneration starts a new set of n workers.
func (r *run) startGeneration() {
	r.nextGen++
	g := &generation{id: r.nextGen, procs: make([]*process, r.n), delay: make([]time.Duration, r.n),
		due: make([]time.Time, r.n), ready: make([]bool, r.n)}
	for i := range g.delay {
		g.delay[i] = firstRestartDelay
	}
	r.gens = append(r.gens, g)
	for i := range r.n {
		r.start(g, i)
	}
}

// start starts the worker of g's slot i.
func (r *run) start(g *generation, i int) {
	if g.retired {
		return // a Start error stopped the supervisor meanwhile
	}
	cmd := r.command()
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, EnvWorker+"="+r.timeout.String())
	readyR, readyW, err := os.Pipe()
	if err == nil {
		cmd.ExtraFiles = append(cmd.ExtraFiles, r.sock, readyW)
		if cmd.SysProcAttr == nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{}
		}
		// Its own process group: a terminal's Ctrl-C reaches the
		// supervisor alone, which drains the workers in order.
		cmd.SysProcAttr.Setpgid = true
		cmd.SysProcAttr.Pdeathsig = syscall.SIGTERM
		err = cmd.Start()
		readyW.Close()
		if err != nil {
			readyR.Close()
		}
	}
	if err != nil {
		r.log.Error("worker start failed", "gen", g.id, "slot", i, "err", err)
		if !r.anyReady {
			r.failed = err
			r.stop()
			return
		}
		r.backoff(g, i, 0)
		return
	}
	p := &process{gen: g, slot: i, cmd: cmd, pid: cmd.Process.Pid, start: time.Now()}
	g.procs[i] = p
	r.live[p] = struct{}{}
	r.log.Info("worker started", "pid", p.pid, "gen", g.id, "slot", i)
	go r.watch(p, readyR)
}

// watch reports p's readiness, if it comes, and then its exit.
func (r *run) watch(p *process, ready *os.File) {
	var b [1]byte
	n, _ := ready.Read(b[:]) // the byte, or EOF when the worker closed fd 4 or died
	ready.Close()
	if n == 1 {
		r.events <- event{p: p, ready: true}
	}
	err := p.cmd.Wait()
	r.events <- event{p: p, err: err}
}

// ready records that p serves; when p's generation is all ready, the
// older ones drain.
func (r *run) ready(p *process) {
	if p.state != starting {
		return // told to drain meanwhile
	}
	p.state = serving
	g := p.gen
	g.ready[p.slot] = true
	r.anyReady = true
	r.log.Info("worker ready", "pid", p.pid, "gen", g.id, "slot", p.slot)
	if g.retired || g == r.serving || !g.allReady() {
		return
	}
	r.serving = g
	r.log.Info("generation ready", "gen", g.id)
	for _, old := range r.gens {
		if old != g {
			r.retire(old)
		}
	}
}

// exited records p's exit and restarts it when its generation still
// serves.
func (r *run) exited(p *process, err error) {
	delete(r.live, p)
	was := p.state
	p.state = exited
	lived := time.Since(p.start)
	status := "exit status 0"
	if err != nil {
		status = err.Error()
	}
	g := p.gen
	if g.procs[p.slot] == p {
		g.procs[p.slot] = nil
	}
	if was == draining {
		r.log.Info("worker exited", "pid", p.pid, "gen", g.id, "slot", p.slot, "status", status, "state", was.String())
		return
	}
	r.log.Warn("worker exited unasked", "pid", p.pid, "gen", g.id, "slot", p.slot, "status", status,
		"state", was.String(), "lived", lived.Round(time.Millisecond).String())
	if !g.retired && !r.stopping {
		r.backoff(g, p.slot, lived)
	}
}

// backoff schedules the restart of g's slot i, whose last process lived
// for lived.
func (r *run) backoff(g *generation, i int, lived time.Duration) {
	if lived >= stableAfter {
		g.delay[i] = firstRestartDelay
	}
	g.due[i] = time.Now().Add(g.delay[i])
	r.log.Info("worker restart scheduled", "gen", g.id, "slot", i, "in", g.delay[i].String())
	g.delay[i] = min(2*g.delay[i], maxRestartDelay)
}

// nextWake is the earliest restart or kill due, zero if none.
func (r *run) nextWake() time.Time {
	var at time.Time
	earlier := func(t time.Time) {
		if !t.IsZero() && (at.IsZero() || t.Before(at)) {
			at = t
		}
	}
	for _, g := range r.gens {
		for _, t := range g.due {
			earlier(t)
		}
	}
	for p := range r.live {
		earlier(p.killAt)
	}
	return at
}

// due runs the restarts and kills due at now.
func (r *run) due(now time.Time) {
	for _, g := range r.gens {
		for i, t := range g.due {
			if !t.IsZero() && !t.After(now) {
				g.due[i] = time.Time{}
				r.start(g, i)
			}
		}
	}
	for p := range r.live {
		if !p.killAt.IsZero() && !p.killAt.After(now) {
			p.killAt = time.Time{}
			r.log.Warn("worker did not drain in time: killing it", "pid", p.pid, "gen", p.gen.id)
			p.cmd.Process.Kill()
		}
	}
}

// reload starts a new generation. Generations that are not the serving
// one (a reload under way, or a first start not yet all ready) are
// retired at once; the serving one drains when the new one is all ready.
func (r *run) reload() {
	r.log.Info("reload: starting new workers", "gen", r.nextGen+1)
	for _, g := range r.gens {
		if g != r.serving {
			r.retire(g)
		}
	}
	r.startGeneration()
}

// retire tells g's workers to drain and cancels its restarts.
func (r *run) retire(g *generation) {
	g.retired = true
	for i, p := range g.procs {
		g.due[i] = time.Time{}
		if p != nil {
			r.drain(p)
		}
	}
	gens := r.gens[:0]
	for _, o := range r.gens {
		if o != g {
			gens = append(gens, o)
		}
	}
	r.gens = gens
	if r.serving == g {
		r.serving = nil
	}
}

// drain sends p SIGTERM.
func (r *run) drain(p *process) {
	if p.state == draining || p.state == exited {
		return
	}
	p.state = draining
	p.killAt = time.Now().Add(r.timeout + killGrace)
	r.log.Info("worker draining", "pid", p.pid, "gen", p.gen.id, "slot", p.slot)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		r.log.Error("signal failed", "pid", p.pid, "err", err)
	}
}

// stop retires every generation.
func (r *run) stop() {
	r.stopping = true
	for len(r.gens) > 0 {
		r.retire(r.gens[0])
	}
}

// killAll sends SIGKILL to every live worker.
func (r *run) killAll() {
	for p := range r.live {
		p.cmd.Process.Kill()
	}
}
