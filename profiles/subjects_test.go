package profiles

import (
	"context"
	"sync"
	"testing"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/internal/sandbox"
)

// subject is one account with every file rendered for it: the hand-made
// test cases, and the settings every sandbox scenario expects a prober to
// recommend (the probe itself is tested end to end where the pipeline is:
// internal/account's TestEverySandboxScenarioRendersItsRecommendation).
// Every check below runs on each.
type subject struct {
	name    string
	display string
	acct    Account
	files   []File
	// sandbox marks the subjects made from the sandbox scenarios.
	sandbox bool
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
// sandbox scenario that has working settings, rendered from the settings
// it declares.
func subjects(t *testing.T) []subject {
	t.Helper()
	var out []subject
	for _, tc := range testCases {
		out = append(out, subject{name: tc.name, display: tc.display, acct: tc.account(t), files: tc.render(t)})
	}
	if testing.Short() {
		return out
	}
	sandboxOnce.Do(func() { sandboxOnce.subjects, sandboxOnce.err = sandboxSubjects() })
	if sandboxOnce.err != "" {
		t.Fatal(sandboxOnce.err)
	}
	return append(out, sandboxOnce.subjects...)
}

func sandboxSubjects() ([]subject, string) {
	w, err := sandbox.Start(context.Background(), sandbox.Options{})
	if err != nil {
		return nil, "starting the sandbox: " + err.Error()
	}
	defer w.Close()
	var out []subject
	for _, sc := range w.Scenarios() {
		exp := sc.Expect
		if exp.Incoming == nil || exp.Outgoing == nil {
			continue
		}
		addr, err := autoconfig.ParseAddress(sc.Address)
		if err != nil {
			return nil, sc.Name + ": " + err.Error()
		}
		settings := &autoconfig.Provider{ID: addr.Domain, Domains: []string{addr.Domain},
			Incoming: []autoconfig.Server{*exp.Incoming}, Outgoing: []autoconfig.Server{*exp.Outgoing}}
		const display = "Sandbox User"
		acct, err := NewAccount(settings, addr, display, exp.Incoming.Protocol)
		if err != nil {
			return nil, sc.Name + ": " + err.Error()
		}
		files, err := Render(acct, AllFormats, Options{})
		if err != nil {
			return nil, sc.Name + ": " + err.Error()
		}
		out = append(out, subject{name: "sandbox-" + sc.Name, display: display, acct: acct, files: files, sandbox: true})
	}
	return out, ""
}
