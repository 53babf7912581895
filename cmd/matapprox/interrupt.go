package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/matapprox/matapprox/internal/atomicfile"
	"github.com/matapprox/matapprox/train"
)

// interrupts handles SIGINT and SIGTERM for one command. A command moves
// through phases: in a phase that polls the context (training, which stops
// at the next batch and checkpoints), a first signal cancels the context;
// in any other phase (setup, warm-start targets, the final evaluation, the
// report, approx), the signal removes the temporary files of the writes in
// progress, prints what was kept and how to go on, and exits with 130 at
// once. A second signal always exits that way.
type interrupts struct {
	ctx    context.Context
	cancel context.CancelFunc
	sigs   chan os.Signal
	done   chan struct{}
	stderr io.Writer

	mu      sync.Mutex
	polling bool
	msg     string
}

// exitNow ends the process; a variable so that tests can observe it.
var exitNow = os.Exit

// catchInterrupts starts handling signals with the message msg for the
// first phase (which does not poll).
func catchInterrupts(stderr io.Writer, msg string) *interrupts {
	in := &interrupts{sigs: make(chan os.Signal, 2), done: make(chan struct{}), stderr: stderr, msg: msg}
	in.ctx, in.cancel = context.WithCancel(context.Background())
	signal.Notify(in.sigs, os.Interrupt, syscall.SIGTERM)
	go in.loop()
	return in
}

func (in *interrupts) loop() {
	for {
		select {
		case <-in.done:
			return
		case <-in.sigs:
		}
		in.mu.Lock()
		polling, msg := in.polling, in.msg
		in.polling = false // a second signal exits
		in.mu.Unlock()
		if polling && in.ctx.Err() == nil {
			in.cancel()
			continue
		}
		atomicfile.RemoveTemps()
		fmt.Fprintf(in.stderr, "matapprox: interrupted: %s\n", msg)
		exitNow(130)
	}
}

// phase enters a phase: polling says whether it stops by itself on a
// cancelled context; msg is what an exit during it says.
func (in *interrupts) phase(polling bool, msg string) {
	in.mu.Lock()
	in.polling, in.msg = polling, msg
	in.mu.Unlock()
}

// stop ends signal handling.
func (in *interrupts) stop() {
	signal.Stop(in.sigs)
	close(in.done)
	in.cancel()
}

// memoryFlag registers -max-memory on fs.
func memoryFlag(fs *flag.FlagSet) *byteSize {
	b := &byteSize{}
	fs.Var(b, "max-memory", "refuse work whose estimated memory exceeds this, e.g. 8GB or 512MiB (default half the machine's memory, or 90% of what is available if less)")
	return b
}

// byteSize is a memory size flag; 0 means the default.
type byteSize struct{ n int64 }

func (b *byteSize) String() string {
	if b == nil || b.n == 0 {
		return ""
	}
	return train.FormatBytes(float64(b.n))
}

func (b *byteSize) Set(s string) error {
	n, err := train.ParseBytes(s)
	b.n = n
	return err
}

// limit returns the limit in bytes.
func (b *byteSize) limit() int64 {
	if b.n > 0 {
		return b.n
	}
	return train.DefaultMaxMemory()
}
