package discover

import (
	"context"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/internal/sandbox"
	"github.com/mailsetup/mailsetup/probe/netx"
)

// TestRealPortsWithDNSServer is what `mailsetup probe --dns-server` does:
// the sandbox binds the real ports on its 127.x addresses and its DNS
// server on 127.53.0.1:53, and discovery runs with a plain net.Dialer and
// NewDNSResolver pointed there, nothing mapped. It needs root on Linux
// (ports below 1024 on any 127.x address).
func TestRealPortsWithDNSServer(t *testing.T) {
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("skipped: binding the real ports on 127.x addresses needs root on Linux")
	}
	names := []string{"srv-only", "autoconfig-only", "autodiscover-redirect-addr", "mx-big-provider", "guessable"}
	w, err := sandbox.Start(context.Background(), sandbox.Options{BindReal: true, Scenarios: names})
	if err != nil {
		if strings.Contains(err.Error(), "address already in use") {
			t.Skipf("skipped: another real-port sandbox is running: %v", err)
		}
		t.Fatal(err)
	}
	defer w.Close()
	d := &net.Dialer{}
	env := netx.Env{Resolver: netx.NewDNSResolver(w.DNSServer(), d), Dialer: d, RootCAs: w.RootCAs()}
	for _, sc := range w.Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			addr, err := autoconfig.ParseAddress(sc.Address)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res := Run(ctx, Options{Env: env, ISPDBURL: w.ISPDBURL(), Rand: rand.New(rand.NewPCG(1, 1)), PerAttemptTimeout: time.Second}, addr, nil)
			for _, s := range []*autoconfig.Server{sc.Expect.Incoming, sc.Expect.Outgoing} {
				key := Candidate{Server: *s}.Key()
				if !slices.ContainsFunc(res.Candidates, func(c Candidate) bool { return c.Key() == key }) {
					t.Errorf("%s not found over the real ports; candidates %v", key, summary(res))
				}
			}
		})
	}
}
