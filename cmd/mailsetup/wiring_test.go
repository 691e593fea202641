package main

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/cobra"

	"github.com/mailsetup/mailsetup/probe"
)

// --username reaches the prober, which tries it first (issue 12): on the
// sandbox provider whose servers accept only the local part, profile
// --username alice logs in on both sides with the first name it tries.
func TestProfileUsernameIsTheFirstLogin(t *testing.T) {
	sc := catalogued(t, "username-localpart")
	var mu sync.Mutex
	var known string
	var logins []string
	recording := func(ctx context.Context, opts probe.Options, input string) (*probe.Report, error) {
		known = opts.Username
		show := opts.Progress
		opts.Progress = func(e probe.Event) {
			if e.Kind == probe.EventLogin && strings.HasPrefix(e.Text, "login to ") {
				mu.Lock()
				logins = append(logins, e.Text)
				mu.Unlock()
			}
			if show != nil {
				show(e)
			}
		}
		return probe.Run(ctx, opts, input)
	}
	network := sandboxNetwork(t, []byte(sc.Password), "username-localpart")
	code, _, stderr := runCommand(t, func(f *Factory) *cobra.Command {
		return newCmdProfile(f, func(o *profileOptions) error {
			o.Network, o.Probe = network, recording
			return runProfile(context.Background(), o)
		})
	}, "", sc.Address, "--name", "Alice", "--username", "alice", "--out", filepath.Join(t.TempDir(), "out"))
	if code != exitOK {
		t.Fatalf("profile: exit %d\n%s", code, stderr)
	}
	if known != "alice" {
		t.Errorf("the prober was given the login name %q, want %q from --username", known, "alice")
	}
	if len(logins) != 2 {
		t.Fatalf("want one login per side, got %d: %q", len(logins), logins)
	}
	for _, l := range logins {
		if !strings.Contains(l, `as "alice" worked`) {
			t.Errorf("login %q: want the first try, as alice, to work", l)
		}
	}
}
