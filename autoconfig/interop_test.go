package autoconfig_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/internal/tbjudge"
)

// writtenCorpus writes every ISPDB file and our example through our writer
// into a temporary directory and returns the settings read from each.
func writtenCorpus(t *testing.T) (dir string, files []string, providers []*autoconfig.Provider) {
	t.Helper()
	inputs, _ := filepath.Glob(filepath.Join(tbjudge.SharedDir(t, "testdata/ispdb"), "*.xml"))
	inputs = append(inputs, "../examples/example.test.xml")
	dir = t.TempDir()
	for _, in := range inputs {
		data, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		p, _, err := autoconfig.ReadConfig(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		var buf bytes.Buffer
		if err := autoconfig.WriteConfig(&buf, p); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		out := filepath.Join(dir, filepath.Base(in))
		if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, out)
		providers = append(providers, p)
	}
	return dir, files, providers
}

// Everything we write validates against the draft's RELAX NG schema.
func TestWrittenXMLMatchesSchema(t *testing.T) {
	schema := filepath.Join(tbjudge.SharedDir(t, "reference/autoconfig-spec"), "autoconfig.rng")
	if _, err := exec.LookPath("xmllint"); err != nil {
		if os.Getenv("MAILSETUP_REQUIRE_SHARED") == "1" {
			t.Fatal("xmllint is not installed (Debian package libxml2-utils)")
		}
		t.Skip("skipped: xmllint is not installed (Debian package libxml2-utils)")
	}
	_, files, _ := writtenCorpus(t)
	args := append([]string{"--noout", "--relaxng", schema}, files...)
	if out, err := exec.Command("xmllint", args...).CombinedOutput(); err != nil {
		t.Fatalf("xmllint rejects what we wrote: %v\n%s", err, out)
	}
}

// The real Thunderbird accepts every file we write, in both of its code
// paths, and takes the same servers from it that our reader does.
func TestThunderbirdAcceptsWrittenXML(t *testing.T) {
	tbjudge.Require(t)
	_, files, providers := writtenCorpus(t)
	for _, mode := range []string{"http", "disk"} {
		verdicts := tbjudge.ParseAutoconfig(t, mode, "", files...)
		if len(verdicts) != len(files) {
			t.Fatalf("%s: %d verdicts for %d files", mode, len(verdicts), len(files))
		}
		for i, v := range verdicts {
			if !v.Accepted {
				t.Errorf("%s mode: Thunderbird rejects %s: %s", mode, filepath.Base(files[i]), v.Error)
				continue
			}
			addr, err := autoconfig.ParseAddress(v.Email)
			if err != nil {
				t.Fatal(err)
			}
			p := providers[i]
			if diff := tbjudge.Same(v.Config.Incoming, p.Incoming[0], addr); diff != "" {
				t.Errorf("%s mode, %s incoming: %s", mode, filepath.Base(files[i]), diff)
			}
			if len(p.Outgoing) > 0 {
				if diff := tbjudge.Same(v.Config.Outgoing, p.Outgoing[0], addr); diff != "" {
					t.Errorf("%s mode, %s outgoing: %s", mode, filepath.Base(files[i]), diff)
				}
			}
		}
	}
}

// Thunderbird's own Autodiscover reader takes the servers we wrote.
func TestThunderbirdReadsWrittenAutodiscover(t *testing.T) {
	tbjudge.Require(t)
	data, err := os.ReadFile("../examples/example.test.xml")
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := autoconfig.ReadConfig(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	starttls := p.Clone()
	starttls.Incoming[0].Port, starttls.Incoming[0].Security = 143, autoconfig.SecuritySTARTTLS
	starttls.Outgoing = starttls.Outgoing[1:]
	addr, _ := autoconfig.ParseAddress("jane.doe@example.test")
	var files []string
	for i, prov := range []*autoconfig.Provider{p, starttls} {
		var buf bytes.Buffer
		if _, err := autoconfig.NewAutodiscoverResponse(prov, addr).WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		name := filepath.Join(t.TempDir(), "autodiscover"+string(rune('0'+i))+".xml")
		if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, name)
	}
	verdicts := tbjudge.ParseAutodiscover(t, addr.ASCII(), files...)
	for i, prov := range []*autoconfig.Provider{p, starttls} {
		v := verdicts[i]
		if !v.Accepted {
			t.Errorf("Thunderbird rejects our Autodiscover response %d: %s", i, v.Error)
			continue
		}
		want := prov.Incoming[0]
		want.Username = addr.ASCII()
		if diff := tbjudge.Same(v.Config.Incoming, want, addr); diff != "" {
			t.Errorf("response %d incoming: %s", i, diff)
		}
		out := prov.Outgoing[0]
		out.Username = addr.ASCII()
		if diff := tbjudge.Same(v.Config.Outgoing, out, addr); diff != "" {
			t.Errorf("response %d outgoing: %s", i, diff)
		}
	}
}
