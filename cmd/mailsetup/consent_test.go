package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailsetup/mailsetup/internal/prompt"
	"github.com/mailsetup/mailsetup/probe"
)

// The wizard asks before the password goes to a host that only an
// unauthenticated source in another domain named, showing the host, who
// named it and why that cannot be trusted; a "no" writes nothing and exits 7,
// a "yes" logs in there. Without a person to ask it exits 7 and names
// --trust-host.
func TestWizardAsksBeforeTheHostOfAnUnauthenticatedSource(t *testing.T) {
	sc := catalogued(t, "autoconfig-http-elsewhere")
	for _, trust := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "out")
		script := prompt.NewScript(
			prompt.Reply("Do you trust imap.plainweb-hosting.test", trust),
			prompt.IfAsked("Do you trust smtp.plainweb-hosting.test", trust),
			prompt.IfAsked("Incoming mail protocol", nil),
			prompt.IfAsked("Which mail apps", []string{"Thunderbird on a computer"}),
		)
		code, out, errOut := wizardRun(t, &wizardOptions{Network: sandboxNetwork(t, []byte(sc.Password), sc.Name),
			Address: sc.Address, Name: "Alice", Out: dir}, script)
		for _, want := range []string{"imap.plainweb-hosting.test was named by http://autoconfig.plainweb.test/", "plain http", "outside plainweb.test"} {
			if !strings.Contains(out, want) {
				t.Errorf("trust=%v: the question does not say %q:\n%s", trust, want, out)
			}
		}
		switch {
		case !trust && (code != exitUnconfirmed || len(readTree(t, dir)) != 0):
			t.Errorf("declined: exit %d, files %v; want 7 and none\n%s", code, readTree(t, dir), errOut)
		case trust && (code != exitOK || !strings.Contains(out, "Your password worked")):
			t.Errorf("confirmed: exit %d, want 0 with a login\n%s\n%s", code, out, errOut)
		}
	}

	code, _, errOut := wizardRun(t, &wizardOptions{Network: sandboxNetwork(t, []byte(sc.Password), sc.Name),
		Address: sc.Address, Name: "Alice", Out: filepath.Join(t.TempDir(), "out"), Formats: "thunderbird", Protocol: "imap"}, nil)
	if code != exitUnconfirmed || !strings.Contains(errOut, "--trust-host imap.plainweb-hosting.test") {
		t.Errorf("without a terminal: exit %d, want 7 naming --trust-host\n%s", code, errOut)
	}
}

// batch writes nothing for a user whose servers only an unauthenticated
// source in another domain named, with the status unconfirmed and the
// --trust-host to pass; with it, the row's password logs in there.
func TestBatchUnconfirmedHostsWriteNothing(t *testing.T) {
	sc := catalogued(t, "autoconfig-http-elsewhere")
	for _, trust := range []bool{false, true} {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "alice.pw"), sc.Password+"\n")
		users := filepath.Join(dir, "users.csv")
		writeFile(t, users, "email,name,password_file\n"+sc.Address+",Alice,alice.pw\n")
		network := sandboxNetwork(t, nil, sc.Name)
		if trust {
			inner := network
			network = func(ctx context.Context) (probe.Options, func(), error) {
				opts, release, err := inner(ctx)
				opts.TrustHosts = []string{"imap.plainweb-hosting.test", "smtp.plainweb-hosting.test"}
				return opts, release, err
			}
		}
		out := filepath.Join(dir, "out")
		code, _, stderr := batchRun(t, &batchOptions{Network: network, UsersFile: users, Out: out})
		sum := readSummary(t, out)
		switch {
		case !trust && (code != exitBatchPartial || sum.Users[0].Status != batchUnconfirmed || len(sum.Users[0].Files) != 0 ||
			!strings.Contains(sum.Users[0].Error, "--trust-host imap.plainweb-hosting.test")):
			t.Errorf("unconfirmed: exit %d, user %+v\n%s", code, sum.Users[0], stderr)
		case trust && (code != exitOK || sum.Users[0].Status != batchOK || sum.Users[0].Login != "ok"):
			t.Errorf("confirmed: exit %d, user %+v\n%s", code, sum.Users[0], stderr)
		}
	}
}

func readSummary(t *testing.T, out string) batchSummary {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sum batchSummary
	if err := json.Unmarshal(data, &sum); err != nil {
		t.Fatal(err)
	}
	if len(sum.Users) != 1 {
		t.Fatalf("users %+v, want one", sum.Users)
	}
	return sum
}
