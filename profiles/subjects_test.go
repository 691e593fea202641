package profiles

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/internal/sandbox"
	"github.com/mailsetup/mailsetup/probe"
)

// subject is one account with every file rendered for it: the hand-made
// test cases, and the recommendation of a real probe of every sandbox
// scenario. Every check below runs on each.
type subject struct {
	name    string
	display string
	acct    Account
	files   []File
	// rec is the probe's recommendation, for sandbox subjects.
	rec *probe.Recommendation
}

func (s subject) file(t testing.TB, path string) []byte { return fileData(t, s.files, path) }
func (s subject) ispPath() string {
	return "thunderbird/isp/" + ThunderbirdISPFileName(s.acct.Address.Domain)
}
func (s subject) applePath() string { return "apple/" + AppleFileName(s.acct.Address) }

var sandboxOnce struct {
	sync.Once
	subjects []subject
	err      string
}

// subjects returns the test cases and, unless -short, one subject per
// sandbox scenario that has working settings: probed in-process on
// loopback (with the scenario's password), then rendered.
func subjects(t *testing.T) []subject {
	t.Helper()
	var out []subject
	for _, tc := range testCases {
		out = append(out, subject{name: tc.name, display: tc.display, acct: tc.account(t), files: tc.render(t)})
	}
	if testing.Short() {
		return out
	}
	sandboxOnce.Do(func() { sandboxOnce.subjects, sandboxOnce.err = probeSandbox() })
	if sandboxOnce.err != "" {
		t.Fatal(sandboxOnce.err)
	}
	return append(out, sandboxOnce.subjects...)
}

func probeSandbox() ([]subject, string) {
	ctx := context.Background()
	w, err := sandbox.Start(ctx, sandbox.Options{})
	if err != nil {
		return nil, "starting the sandbox: " + err.Error()
	}
	defer w.Close()
	var out []subject
	for _, sc := range w.Scenarios() {
		if sc.Expect.Incoming == nil || sc.Expect.Outgoing == nil {
			continue
		}
		rep, err := probe.Run(ctx, probe.Options{
			Env: w.Env(), ISPDBURL: w.ISPDBURL(), Password: []byte(sc.Password),
			Timeout: 10 * time.Second, AttemptTimeout: 3 * time.Second, Rand: rand.New(rand.NewPCG(1, 2)),
		}, sc.Address)
		if err != nil {
			return nil, sc.Name + ": " + err.Error()
		}
		if rep.Recommendation == nil {
			return nil, sc.Name + ": the probe recommends nothing (status " + string(rep.Status) + ")"
		}
		addr, err := autoconfig.ParseAddress(sc.Address)
		if err != nil {
			return nil, sc.Name + ": " + err.Error()
		}
		const display = "Sandbox User"
		acct, err := NewAccount(rep.Settings(), addr, display, rep.Recommendation.Protocol)
		if err != nil {
			return nil, sc.Name + ": " + err.Error()
		}
		files, err := Render(acct, AllFormats, Options{})
		if err != nil {
			return nil, sc.Name + ": " + err.Error()
		}
		out = append(out, subject{name: "sandbox-" + sc.Name, display: display, acct: acct, files: files, rec: rep.Recommendation})
	}
	return out, ""
}
