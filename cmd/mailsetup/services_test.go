package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/mailsetup/mailsetup/internal/account"
)

// Every command that writes files takes --services and hands it to the one
// pipeline (account.Render, whose filtering TestRenderHonoursServices in
// internal/account checks): the value parsed the same way, and a bad one
// refused with exit 2 before anything touches the network.
func TestEveryCommandTakesServices(t *testing.T) {
	want := []account.Service{account.ServiceMail, account.ServiceContacts}
	dir := t.TempDir()
	users := filepath.Join(dir, "users.csv")
	writeFile(t, users, "email\nkim@dav.test\n")
	commands := []struct {
		name string
		args []string
		// parsed runs the command's flag parsing only and returns the
		// services it would give account.Render.
		parsed func(args []string) []account.Service
		run    func(f *Factory) *cobra.Command
	}{
		{"profile", []string{"kim@dav.test", "--name", "Kim Lee", "--out", filepath.Join(dir, "p")}, func(args []string) (got []account.Service) {
			runCommand(t, func(f *Factory) *cobra.Command {
				return newCmdProfile(f, func(o *profileOptions) error { a, err := o.answers(); got = a.Services; return err })
			}, "", args...)
			return got
		}, func(f *Factory) *cobra.Command { return newCmdProfile(f, nil) }},
		{"wizard", []string{"--address", "kim@dav.test", "--name", "Kim Lee"}, func(args []string) (got []account.Service) {
			runCommand(t, func(f *Factory) *cobra.Command {
				return newCmdWizard(f, func(o *wizardOptions) error { a, err := o.answers(); got = a.Services; return err })
			}, "", args...)
			return got
		}, func(f *Factory) *cobra.Command { return newCmdWizard(f, nil) }},
		{"batch", []string{users, "--out", filepath.Join(dir, "b")}, func(args []string) (got []account.Service) {
			runCommand(t, func(f *Factory) *cobra.Command {
				return newCmdBatch(f, func(o *batchOptions) error { a, err := o.answers(); got = a.Services; return err })
			}, "", args...)
			return got
		}, func(f *Factory) *cobra.Command { return newCmdBatch(f, nil) }},
		{"demo", []string{"--out", filepath.Join(dir, "d")}, func(args []string) (got []account.Service) {
			runCommand(t, func(f *Factory) *cobra.Command {
				return newCmdDemo(f, func(o *demoOptions) error { s, err := parseServices(o.Services); got = s; return err })
			}, "", args...)
			return got
		}, func(f *Factory) *cobra.Command { return newCmdDemo(f, nil) }},
	}
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			if got := c.parsed(append(slices.Clone(c.args), "--services", "contacts,mail")); !slices.Equal(got, want) {
				t.Errorf("--services contacts,mail gives %v, want %v", got, want)
			}
			if got := c.parsed(c.args); got != nil {
				t.Errorf("no --services gives %v, want nil (everything the provider offers)", got)
			}
			code, _, stderr := runCommand(t, c.run, "", append(slices.Clone(c.args), "--services", "calendar,contacts")...)
			if code != exitUsage || !strings.Contains(stderr, "--services") || !strings.Contains(stderr, "mail") {
				t.Errorf("--services without mail: exit %d, %q; want exit %d naming --services and mail", code, stderr, exitUsage)
			}
		})
	}
}

// profile writes the calendar and contacts a settings file names, all of
// them by default and only those chosen with --services, and says when a
// service asked for is not there.
func TestProfileHonoursServices(t *testing.T) {
	dir := t.TempDir()
	davXML, err := os.ReadFile(filepath.Join("..", "..", "profiles", "testdata", "providers", "dav.xml"))
	if err != nil {
		t.Fatal(err)
	}
	settings := filepath.Join(dir, "dav.xml")
	writeFile(t, settings, string(davXML))
	profile := func(out string, extra ...string) (string, string) {
		t.Helper()
		args := append([]string{"kim@dav.test", "--name", "Kim Lee", "--settings", settings, "--format", "apple,thunderbird", "--out", out}, extra...)
		code, stdout, stderr := runCommand(t, func(f *Factory) *cobra.Command { return newCmdProfile(f, nil) }, "", args...)
		if code != exitOK {
			t.Fatalf("profile %v: exit %d\n%s", extra, code, stderr)
		}
		// The summary names what the files set up.
		for what, url := range map[string]string{"calendar": "CalDAV", "contacts": "CardDAV"} {
			asked := len(extra) == 0 || strings.Contains(extra[1], what)
			if got := regexp.MustCompile(what + ` +` + url + ` +https://cloud\.dav\.test/remote\.php/dav `).MatchString(stdout); got != asked {
				t.Errorf("profile %v: summary names %s: %v, want %v\n%s", extra, what, got, asked, stdout)
			}
		}
		data, err := os.ReadFile(filepath.Join(out, "apple", "kim@dav.test.mobileconfig"))
		if err != nil {
			t.Fatal(err)
		}
		return string(data), stderr
	}
	all, _ := profile(filepath.Join(dir, "all"))
	if !strings.Contains(all, "com.apple.caldav.account") || !strings.Contains(all, "com.apple.carddav.account") {
		t.Errorf("without --services the Apple profile lacks calendar or contacts")
	}
	contacts, _ := profile(filepath.Join(dir, "contacts"), "--services", "mail,contacts")
	if strings.Contains(contacts, "com.apple.caldav.account") || !strings.Contains(contacts, "com.apple.carddav.account") {
		t.Errorf("--services mail,contacts: the Apple profile has the calendar or lacks the contacts")
	}
	mail, _ := profile(filepath.Join(dir, "mail"), "--services", "mail")
	if strings.Contains(mail, "DAV") {
		t.Errorf("--services mail: the Apple profile has calendar or contacts")
	}

	plain := filepath.Join(dir, "plain.xml")
	writeFile(t, plain, strings.Split(string(davXML), "  <addressbook")[0]+"</clientConfig>\n")
	code, _, stderr := runCommand(t, func(f *Factory) *cobra.Command { return newCmdProfile(f, nil) }, "",
		"kim@dav.test", "--name", "Kim Lee", "--settings", plain, "--format", "apple", "--out", filepath.Join(dir, "plain"), "--services", "all")
	if code != exitOK || !strings.Contains(stderr, "--services asked for calendar") || !strings.Contains(stderr, "--services asked for contacts") {
		t.Errorf("--services all on a mail-only provider: exit %d, stderr %q; want both named as not found", code, stderr)
	}
}
