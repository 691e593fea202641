package probe

import (
	"bytes"
	"context"
	"math/rand/v2"
	"runtime/pprof"
	"sync"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/internal/sandbox"
)

// budgetGrace is how far past its budget a probe may return: none by
// design (the engine leaves at the caller's deadline), plus scheduling
// slack for a loaded machine: under -race with every package's tests on two
// cores, a starved probe was seen 2.6 s late. A hang is minutes.
const budgetGrace = 10 * time.Second

// goroutineDump is every goroutine's stack, for a test that caught a probe
// outliving its budget.
func goroutineDump() string {
	var b bytes.Buffer
	pprof.Lookup("goroutine").WriteTo(&b, 2)
	return b.String()
}

// TestRunNeverOutlivesItsBudget runs many probes at once in one world, with
// budgets so short that they end in every phase (DNS, connect, TLS,
// greeting, the login gate, the verdict), and fails with a goroutine dump
// if any returns later than its budget plus a grace, or if the world
// cannot be closed afterwards.
func TestRunNeverOutlivesItsBudget(t *testing.T) {
	w, err := sandbox.Start(context.Background(), sandbox.Options{Latency: 3 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	scenarios := w.Scenarios()
	rounds := 2
	if testing.Short() {
		rounds = 1
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var dumpOnce sync.Once
	late := 0
	for round := range rounds {
		for i, sc := range scenarios {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(round), uint64(i)))
				opts := worldOptions(w, sc)
				opts.Timeout = time.Duration(1+rng.IntN(400)) * time.Millisecond
				opts.AttemptTimeout = 0
				opts.Rand = rng
				start := time.Now()
				// Dump while the late probe is still stuck, not after.
				watchdog := time.AfterFunc(opts.Timeout+budgetGrace, func() {
					dumpOnce.Do(func() { t.Logf("a probe outlived its budget; goroutines:\n%s", goroutineDump()) })
				})
				defer watchdog.Stop()
				if _, err := Run(t.Context(), opts, sc.Address); err != nil {
					t.Errorf("%s: %v", sc.Name, err)
				}
				if took := time.Since(start); took > opts.Timeout+budgetGrace {
					mu.Lock()
					late++
					mu.Unlock()
					t.Errorf("%s: Run took %v with a budget of %v", sc.Name, took, opts.Timeout)
				}
			}()
		}
	}
	wg.Wait()
	closed := make(chan struct{})
	go func() {
		w.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(budgetGrace):
		t.Errorf("the world did not close within %v after the probes returned", budgetGrace)
		late++
	}
	if late > 0 {
		dumpOnce.Do(func() { t.Logf("goroutines:\n%s", goroutineDump()) })
	}
}
