package discover

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/internal/sandbox"
	"github.com/mailsetup/mailsetup/internal/sandbox/sandboxtest"
)

// BenchmarkDiscoverySandbox runs discovery alone in a sandbox where every
// round trip costs 50 ms. It reports the time until the scenario's expected
// incoming server first appears (what lets the prober move on), in ms and
// in round trips, and ns/op is the time until every method has finished.
//
//	go test -run '^$' -bench DiscoverySandbox -benchtime 3x ./probe/discover
func BenchmarkDiscoverySandbox(b *testing.B) {
	const latency = 50 * time.Millisecond
	w := sandboxtest.Start(b, sandbox.Options{Latency: latency})
	scenarios := map[string]sandbox.Scenario{}
	for _, sc := range w.Scenarios() {
		scenarios[sc.Name] = sc
	}
	for _, name := range []string{
		"demo", "srv-only", "autoconfig-only", "wellknown-only", "autodiscover-redirect-addr",
		"autodiscover-http-redirect", "mx-big-provider", "guessable", "blackholed-preferred", "hostile-dns", "nothing",
	} {
		sc, ok := scenarios[name]
		if !ok {
			b.Fatalf("no scenario %q", name)
		}
		addr, err := autoconfig.ParseAddress(sc.Address)
		if err != nil {
			b.Fatal(err)
		}
		var wantKey string
		if sc.Expect.Incoming != nil {
			wantKey = Candidate{Server: *sc.Expect.Incoming}.Key()
		}
		b.Run(name, func(b *testing.B) {
			var toExpected time.Duration
			for b.Loop() {
				ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
				start := time.Now()
				var (
					once  sync.Once
					first time.Duration
				)
				Run(ctx, Options{
					Env:      w.Env(),
					ISPDBURL: w.ISPDBURL(),
					Rand:     rand.New(rand.NewPCG(1, 1)),
				}, addr, func(c Candidate) {
					if c.Key() == wantKey {
						once.Do(func() { first = time.Since(start) })
					}
				})
				cancel()
				toExpected += first
			}
			if wantKey != "" {
				per := toExpected / time.Duration(b.N)
				b.ReportMetric(float64(per.Milliseconds()), "ms-to-expected")
				b.ReportMetric(float64(per)/float64(latency), "rtt-to-expected")
			}
		})
	}
}
