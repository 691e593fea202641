package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/internal/account"
	"github.com/mailsetup/mailsetup/internal/iostreams"
	"github.com/mailsetup/mailsetup/internal/prompt"
)

// runCommand runs one command built by newCmd with args, as Main would,
// and returns the exit code and what it printed.
func runCommand(t *testing.T, newCmd func(f *Factory) *cobra.Command, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ios, in, out, errOut := iostreams.Test()
	in.WriteString(stdin)
	cmd := newCmd(&Factory{IO: ios})
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetIn(ios.In)
	cmd.SetOut(ios.Out)
	cmd.SetErr(ios.ErrOut)
	err := cmd.ExecuteContext(context.Background())
	if err != nil {
		errOut.WriteString("mailsetup: " + peopleWords(err) + "\n")
	}
	return exitCodeOf(err), out.String(), errOut.String()
}

// The test of the one pipeline: profile, the wizard (answering
// questions) and batch, given the same answers - a login name that is not
// the address, the Outlook path - on a provider whose servers take only the
// local part, write byte-identical files.
func TestSameAnswersSameFilesInEveryCommand(t *testing.T) {
	sc := catalogued(t, "username-localpart")
	const name, outlookPath = "Alice Liddell", `C:\Users\alice\autodiscover.xml`
	findings := sameFindings()
	dir := t.TempDir()

	prof := filepath.Join(dir, "profile")
	network := sandboxNetwork(t, []byte(sc.Password), "username-localpart")
	code, _, stderr := runCommand(t, func(f *Factory) *cobra.Command {
		return newCmdProfile(f, func(o *profileOptions) error {
			o.Network, o.Probe = network, findings
			return runProfile(context.Background(), o)
		})
	}, "", sc.Address, "--name", name, "--username", sc.Username, "--autodiscover-path", outlookPath, "--out", prof)
	if code != exitOK {
		t.Fatalf("profile: exit %d\n%s", code, stderr)
	}
	if strings.Contains(stderr, "placeholder") {
		t.Errorf("profile warned about a placeholder although --autodiscover-path was given: %s", stderr)
	}

	wiz := filepath.Join(dir, "wizard")
	script := prompt.NewScript(
		prompt.Reply("E-mail address", sc.Address),
		prompt.Reply("Your name", name),
		prompt.Reply("Password", sc.Password),
		prompt.IfAsked("Incoming mail protocol", nil),
		prompt.Reply("Which mail apps", nil),
		prompt.Reply("Folder", wiz),
	)
	code, _, stderr = wizardRun(t, &wizardOptions{Network: sandboxNetwork(t, nil, "username-localpart"), Probe: findings,
		answerFlags: answerFlags{Username: sc.Username, AutodiscoverPath: outlookPath}}, script)
	if code != exitOK {
		t.Fatalf("wizard: exit %d\n%s", code, stderr)
	}

	writeFile(t, filepath.Join(dir, "alice.pw"), sc.Password)
	users := filepath.Join(dir, "users.csv")
	writeFile(t, users, "email,name,username,password_file\n"+sc.Address+","+name+","+sc.Username+",alice.pw\n")
	out := filepath.Join(dir, "batch")
	code, _, stderr = batchRun(t, &batchOptions{Network: sandboxNetwork(t, nil, "username-localpart"), Probe: findings,
		UsersFile: users, Out: out, Formats: "all", Concurrency: 1, answerFlags: answerFlags{AutodiscoverPath: outlookPath}})
	if code != exitOK {
		t.Fatalf("batch: exit %d\n%s", code, stderr)
	}

	profFiles := readTree(t, prof)
	sameTrees(t, profFiles, readTree(t, wiz), "profile vs. wizard")
	sameTrees(t, profFiles, readTree(t, filepath.Join(out, folderName(mustAddress(t, sc.Address)))), "profile vs. batch")
	for file, want := range map[string]string{
		"thunderbird/user.js":      `"` + sc.Username + `"`,
		"outlook/autodiscover.reg": utf16LE(`C:\\Users\\alice\\autodiscover.xml`),
		"sheet/setup.txt":          sc.Username,
	} {
		if !bytes.Contains(profFiles[file], []byte(want)) {
			t.Errorf("%s lacks %q:\n%s", file, want, profFiles[file])
		}
	}
}

// The demo writes what 'profile --sandbox demo' writes for its name.
func TestDemoWritesWhatProfileWrites(t *testing.T) {
	findings := sameFindings()
	dir := t.TempDir()
	demoDir := filepath.Join(dir, "demo")
	code, _, stderr := runCommand(t, func(f *Factory) *cobra.Command {
		return newCmdDemo(f, func(o *demoOptions) error {
			o.Probe = findings
			return runDemo(context.Background(), o)
		})
	}, "", "--out", demoDir)
	if code != exitOK {
		t.Fatalf("demo: exit %d\n%s", code, stderr)
	}
	prof := filepath.Join(dir, "profile")
	code, _, stderr = runCommand(t, func(f *Factory) *cobra.Command {
		return newCmdProfile(f, func(o *profileOptions) error {
			o.Probe = findings
			return runProfile(context.Background(), o)
		})
	}, "", "--sandbox", "demo", "--name", demoName, "--out", prof)
	if code != exitOK {
		t.Fatalf("profile --sandbox demo: exit %d\n%s", code, stderr)
	}
	demoFiles := readTree(t, demoDir)
	delete(demoFiles, demoMarker)
	sameTrees(t, demoFiles, readTree(t, prof), "demo vs. profile --sandbox demo")
}

func mustAddress(t *testing.T, s string) autoconfig.Address {
	t.Helper()
	addr, err := autoconfig.ParseAddress(s)
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// utf16LE is s as a .reg file holds it.
func utf16LE(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r)
		b.WriteByte(0)
	}
	return b.String()
}

// A missing answer that a file needs - the Outlook path - is warned about
// in the same words by profile, the wizard and batch.
func TestMissingOutlookPathWarnsTheSameEverywhere(t *testing.T) {
	sc := catalogued(t, "demo")
	findings := sameFindings()
	dir := t.TempDir()
	network := sandboxNetwork(t, nil, "demo")
	_, _, profErr := runCommand(t, func(f *Factory) *cobra.Command {
		return newCmdProfile(f, func(o *profileOptions) error {
			o.Network, o.Probe = network, findings
			return runProfile(context.Background(), o)
		})
	}, "", sc.Address, "--name", "A", "--format", "outlook", "--out", filepath.Join(dir, "p"))
	_, _, wizErr := wizardRun(t, &wizardOptions{Network: network, Probe: findings, Address: sc.Address, Name: "A",
		Protocol: "imap", Formats: "outlook", Out: filepath.Join(dir, "w")}, nil)
	users := filepath.Join(dir, "users.csv")
	writeFile(t, users, "email,name\n"+sc.Address+",A\n")
	out := filepath.Join(dir, "b")
	batchRun(t, &batchOptions{Network: network, Probe: findings, UsersFile: users, Out: out, Formats: "outlook", Concurrency: 1})
	summary, _ := os.ReadFile(filepath.Join(out, "summary.json"))

	want := noticeWords(account.Notice{Kind: account.NoticeAutodiscoverPlaceholder, File: "outlook/autodiscover.reg"})
	for what, got := range map[string]string{"profile": profErr, "wizard": wizErr} {
		if !strings.Contains(got, "warning: "+want+"\n") {
			t.Errorf("%s did not warn %q:\n%s", what, want, got)
		}
	}
	quoted, _ := json.Marshal(want)
	if !bytes.Contains(summary, quoted) {
		t.Errorf("batch's summary lacks %s:\n%s", quoted, summary)
	}
}
