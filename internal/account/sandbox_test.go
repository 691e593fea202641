package account

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/internal/sandbox"
	"github.com/mailsetup/mailsetup/internal/sandbox/sandboxtest"
	"github.com/mailsetup/mailsetup/probe"
	"github.com/mailsetup/mailsetup/profiles"
)

// End to end through the pipeline: every sandbox scenario with working
// settings is probed in-process on loopback (with its password), and the
// account the pipeline renders follows the probe's recommendation exactly,
// so the files do.
func TestEverySandboxScenarioRendersItsRecommendation(t *testing.T) {
	if testing.Short() {
		t.Skip("probes every sandbox scenario")
	}
	w := sandboxtest.Start(t, sandbox.Options{})
	n := 0
	for _, sc := range w.Scenarios() {
		if sc.Expect.Incoming == nil || sc.Expect.Outgoing == nil {
			continue
		}
		n++
		rep, err := probe.Run(t.Context(), probe.Options{
			Env: w.Env(), ISPDBURL: w.ISPDBURL(), Password: []byte(sc.Password),
			Timeout: 10 * time.Second, AttemptTimeout: 3 * time.Second, Rand: rand.New(rand.NewPCG(1, 2)),
		}, sc.Address)
		if err != nil {
			t.Fatalf("%s: %v", sc.Name, err)
		}
		if rep.Recommendation == nil {
			t.Fatalf("%s: the probe recommends nothing (status %s)", sc.Name, rep.Status)
		}
		settings, err := FromReport(rep)
		if err != nil {
			t.Fatalf("%s: %v", sc.Name, err)
		}
		r, err := Render(settings, address(t, sc.Address), Answers{Name: "Sandbox User", Formats: profiles.AllFormats})
		if err != nil {
			t.Fatalf("%s: %v", sc.Name, err)
		}
		if len(r.Files) == 0 {
			t.Errorf("%s: no files rendered", sc.Name)
		}
		rec := rep.Recommendation
		for _, pair := range []struct {
			got  autoconfig.Server
			want *probe.Endpoint
		}{{r.Account.In(), &rec.Incoming}, {r.Account.Out(), rec.Outgoing}} {
			g, w := pair.got, pair.want
			if g.Protocol != w.Protocol || g.Hostname != w.Host || g.Port != w.Port || g.Security != w.Security || g.Username != w.Username {
				t.Errorf("%s: account has %s %s:%d %s %q, the probe recommends %s %s:%d %s %q", sc.Name,
					g.Protocol, g.Hostname, g.Port, g.Security, g.Username, w.Protocol, w.Host, w.Port, w.Security, w.Username)
			}
		}
	}
	if n == 0 {
		t.Error("no sandbox scenario was probed")
	}
	t.Logf("%d sandbox scenarios probed and rendered", n)
}
