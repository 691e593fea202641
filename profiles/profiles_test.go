package profiles

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mailsetup/mailsetup/autoconfig"
)

var update = flag.Bool("update", false, "rewrite testdata/*/*.golden from the writers' output")

// testCase is one provider and one person: every writer runs on each.
type testCase struct {
	name     string // golden directory under testdata/
	settings string // file under testdata/providers/
	address  string
	display  string
	protocol autoconfig.Protocol
}

var testCases = []testCase{
	{"imap-pop3", "imap-pop3.xml", "jane.doe@example.test", "Jane Doe", ""},
	{"imap-pop3-as-pop3", "imap-pop3.xml", "jane.doe@example.test", "Jane Doe", autoconfig.POP3},
	{"pop3-only", "pop3-only.xml", "fritz@pop-only.test", "Fritz Müller", ""},
	{"starttls-only", "starttls-only.xml", "ops@starttls.test", `Ops <Team> & "Co"`, ""},
	{"idn", "idn.xml", "anna@Bücher.test", "Anna Lindqvist", ""},
	{"dav", "dav.xml", "kim@dav.test", "Kim Lee", ""},
	{"dav-split", "dav-split.xml", "sam@split.test", "Sam Roe", ""},
}

func loadProvider(t testing.TB, file string) *autoconfig.Provider {
	t.Helper()
	fh, err := os.Open(filepath.Join("testdata", "providers", file))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	p, diags, err := autoconfig.ReadConfig(fh)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	for _, d := range diags {
		if d.Severity == autoconfig.Error {
			t.Fatalf("%s: %s", file, d)
		}
	}
	return p
}

func (tc testCase) account(t testing.TB) Account {
	t.Helper()
	addr, err := autoconfig.ParseAddress(tc.address)
	if err != nil {
		t.Fatal(err)
	}
	acct, err := NewAccount(loadProvider(t, tc.settings), addr, tc.display, tc.protocol)
	if err != nil {
		t.Fatal(err)
	}
	return acct
}

func (tc testCase) render(t testing.TB) []File {
	t.Helper()
	files, err := Render(tc.account(t), AllFormats, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// fileData returns the rendered file at path.
func fileData(t testing.TB, files []File, path string) []byte {
	t.Helper()
	for _, f := range files {
		if f.Path == path {
			return f.Data
		}
	}
	t.Fatalf("no file %s was rendered", path)
	return nil
}

// Every writer's output is compared with testdata/CASE/PATH.golden; go test
// -update rewrites them (review the diff before committing).
func TestGolden(t *testing.T) {
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			files := tc.render(t)
			want := map[string]bool{}
			for _, f := range files {
				golden := filepath.Join("testdata", tc.name, filepath.FromSlash(f.Path)+".golden")
				want[golden] = true
				if *update {
					if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, f.Data, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				exp, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./profiles -run TestGolden -update)", err)
				}
				if !bytes.Equal(exp, f.Data) {
					t.Errorf("%s differs from %s:\n%s", f.Path, golden, firstDiff(exp, f.Data))
				}
			}
			// A golden file nothing writes any more is stale.
			filepath.WalkDir(filepath.Join("testdata", tc.name), func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() && !want[p] {
					t.Errorf("stale golden file %s", p)
				}
				return nil
			})
		})
	}
}

func firstDiff(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "line " + strconv.Itoa(i+1) + ":\n- " + x + "\n+ " + y
		}
	}
	return "(same lines, different bytes)"
}

// needTool returns the path of an external checker, or skips the test with
// a plain reason; MAILSETUP_REQUIRE_SHARED=1 (set by .ci/run) makes a missing
// tool a failure instead.
func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("MAILSETUP_REQUIRE_SHARED") == "1" {
		t.Fatalf("%s is not installed but MAILSETUP_REQUIRE_SHARED=1", name)
	}
	t.Skipf("skipped: %s is not installed", name)
	return ""
}

// sharedPath finds ../shared/REL beside the repository, with the same rule.
func sharedPath(t testing.TB, rel string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "shared", rel))
	if err == nil {
		if _, err = os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("MAILSETUP_REQUIRE_SHARED") == "1" {
		t.Fatalf("../shared/%s is missing but MAILSETUP_REQUIRE_SHARED=1: %v", rel, err)
	}
	t.Skipf("skipped: ../shared/%s is not beside this clone (%v)", rel, err)
	return ""
}

func TestParseFormats(t *testing.T) {
	got, err := ParseFormats("sheet, Apple,thunderbird,apple")
	if err != nil {
		t.Fatal(err)
	}
	if want := []Format{Thunderbird, Apple, Sheet}; !equalFormats(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got, _ := ParseFormats("all"); !equalFormats(got, AllFormats) {
		t.Errorf("all gave %v", got)
	}
	if _, err := ParseFormats("thunderbird,palm"); err == nil || !strings.Contains(err.Error(), `"palm"`) {
		t.Errorf("unknown format: got %v", err)
	}
}

func equalFormats(a, b []Format) bool {
	return strings.Join(formatStrings(a), ",") == strings.Join(formatStrings(b), ",")
}

func formatStrings(fs []Format) []string {
	var s []string
	for _, f := range fs {
		s = append(s, string(f))
	}
	return s
}

func TestNewAccountChoosesServers(t *testing.T) {
	p := loadProvider(t, "imap-pop3.xml")
	addr, _ := autoconfig.ParseAddress("jane.doe@example.test")
	a, err := NewAccount(p, addr, "Jane", "")
	if err != nil {
		t.Fatal(err)
	}
	if a.Incoming.Protocol != autoconfig.IMAP || a.Incoming.Port != 993 || a.Outgoing.Port != 465 {
		t.Errorf("default choice: %+v / %+v", a.Incoming, a.Outgoing)
	}
	a, err = NewAccount(p, addr, "Jane", autoconfig.POP3)
	if err != nil {
		t.Fatal(err)
	}
	if a.Incoming.Protocol != autoconfig.POP3 || a.Incoming.POP3 == nil || !a.Incoming.POP3.LeaveMessagesOnServer {
		t.Errorf("POP3 choice: %+v", a.Incoming)
	}

	popOnly := loadProvider(t, "pop3-only.xml")
	a, err = NewAccount(popOnly, addr, "Jane", "")
	if err != nil {
		t.Fatal(err)
	}
	if a.Incoming.POP3 == nil || !a.Incoming.POP3.LeaveMessagesOnServer {
		t.Error("a POP3 server without options must get leave-on-server")
	}
	keepNothing := popOnly.Clone()
	keepNothing.Incoming[0].POP3 = &autoconfig.POP3Options{LeaveMessagesOnServer: false, DaysToLeave: 7}
	a, err = NewAccount(keepNothing, addr, "Jane", "")
	if err != nil {
		t.Fatal(err)
	}
	if !a.Incoming.POP3.LeaveMessagesOnServer || a.Incoming.POP3.DaysToLeave != 7 || keepNothing.Incoming[0].POP3.LeaveMessagesOnServer {
		t.Errorf("POP3 options %+v (provider's %+v): leave-on-server must be forced on, in a copy", a.Incoming.POP3, keepNothing.Incoming[0].POP3)
	}
	if _, err := NewAccount(popOnly, addr, "Jane", autoconfig.IMAP); err == nil || !strings.Contains(err.Error(), "IMAP") {
		t.Errorf("IMAP from a POP3-only provider: got %v", err)
	}
	noSMTP := popOnly.Clone()
	noSMTP.Outgoing = nil
	if _, err := NewAccount(noSMTP, addr, "Jane", ""); err == nil || !strings.Contains(err.Error(), "SMTP") {
		t.Errorf("no SMTP: got %v", err)
	}
	broken := popOnly.Clone()
	broken.Incoming[0].Port = 0
	if _, err := NewAccount(broken, addr, "Jane", ""); err == nil {
		t.Error("a server without a port was accepted")
	}
	// The domain is added to the settings the account carries.
	if !strings.Contains(strings.Join(a.Provider.Domains, " "), "example.test") {
		t.Errorf("domains %v lack the address's domain", a.Provider.Domains)
	}
	if strings.Contains(strings.Join(popOnly.Domains, " "), "example.test") {
		t.Error("NewAccount changed the caller's provider")
	}
}

// Nothing written anywhere carries a password unless asked for.
func TestNoPasswordUnlessAsked(t *testing.T) {
	const pw = "s3cret-Pa55word"
	for _, tc := range testCases {
		files, err := Render(tc.account(t), AllFormats, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if f.Secret || bytes.Contains(f.Data, []byte(pw)) {
				t.Errorf("%s/%s holds a password without being asked to", tc.name, f.Path)
			}
		}
		files, err = Render(tc.account(t), AllFormats, Options{Apple: AppleOptions{Password: pw}})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			has := bytes.Contains(f.Data, []byte(pw))
			if has != (f.Format == Apple) || f.Secret != has {
				t.Errorf("%s/%s: password present=%v, secret=%v", tc.name, f.Path, has, f.Secret)
			}
		}
	}
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
