package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/profiles"
)

// determinismRuns is how often each case probes the same world.
const determinismRuns = 20

// TestSameWorldSameFiles: what goes into the files must not depend on which
// checks finished first (issue 11: 20 runs of the demo provider gave 10
// different lists of alternatives, and parallel profile runs wrote
// different files). Each scenario is probed 20 times, with and without a
// password, four probes at a time while every core is kept busy, and every
// run must give the same settings and the same rendered files. Run it under
// -race on a loaded machine too (docs/testing.md).
func TestSameWorldSameFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short: probes three scenarios 40 times each")
	}
	scenarios := []string{"demo", "srv-autoconfig-disagree", "calendar-contacts"}
	w := startWorld(t, 0, scenarios...)
	stop := loadCPU()
	defer stop()
	for _, sc := range w.Scenarios() {
		for _, withPassword := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/password=%v", sc.Name, withPassword), func(t *testing.T) {
				addr, err := autoconfig.ParseAddress(sc.Address)
				if err != nil {
					t.Fatal(err)
				}
				results := make([][]byte, determinismRuns)
				var wg sync.WaitGroup
				sem := make(chan struct{}, 4)
				for i := range determinismRuns {
					wg.Add(1)
					sem <- struct{}{}
					go func() {
						defer wg.Done()
						defer func() { <-sem }()
						opts := consentedOptions(w, sc)
						opts.Rand = nil // every run its own SRV order among equals
						if !withPassword {
							opts.Password = nil
						}
						rep, err := Run(context.Background(), opts, sc.Address)
						if err != nil {
							t.Error(err)
							return
						}
						results[i] = settingsAndFiles(t, rep, addr)
					}()
				}
				wg.Wait()
				for i := 1; i < determinismRuns; i++ {
					if !bytes.Equal(results[i], results[0]) {
						t.Fatalf("run %d differs from run 0:\n%s\n--- run 0:\n%s", i, results[i], results[0])
					}
				}
			})
		}
	}
}

// settingsAndFiles is the report's settings and every file written from
// them, as one comparable text.
func settingsAndFiles(t *testing.T, rep *Report, addr autoconfig.Address) []byte {
	var b bytes.Buffer
	p := rep.Settings()
	data, _ := json.MarshalIndent(p, "", " ")
	b.Write(data)
	if p == nil || len(p.Outgoing) == 0 {
		return b.Bytes()
	}
	acct, err := profiles.NewAccount(p, addr, "Alice", rep.Recommendation.Protocol)
	if err != nil {
		t.Error(err)
		return nil
	}
	files, _, err := profiles.RenderAvailable(acct, profiles.AllFormats, profiles.Options{})
	if err != nil {
		t.Error(err)
		return nil
	}
	for _, f := range files {
		fmt.Fprintf(&b, "\n== %s\n%s", f.Path, f.Data)
	}
	return b.Bytes()
}

// loadCPU keeps every core busy until stop is called, so that checks and
// logins finish in a different order from run to run.
func loadCPU() (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
					runtime.Gosched()
				}
			}
		}()
	}
	return func() { close(done); wg.Wait() }
}
