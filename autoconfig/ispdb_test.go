package autoconfig

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// sharedDir finds ../shared beside the repository. A clone elsewhere has
// none: tests that need it skip, unless MAILSETUP_REQUIRE_SHARED=1 (set by
// .ci/run) makes that a failure.
func sharedDir(t testing.TB, rel string) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "shared", rel))
	if err == nil {
		if _, err = os.Stat(dir); err == nil {
			return dir
		}
	}
	if os.Getenv("MAILSETUP_REQUIRE_SHARED") == "1" {
		t.Fatalf("../shared/%s is missing but MAILSETUP_REQUIRE_SHARED=1: %v", rel, err)
	}
	t.Skipf("skipped: ../shared/%s is not beside this clone (%v)", rel, err)
	return ""
}

func ispdbFiles(t testing.TB) []string {
	files, err := filepath.Glob(filepath.Join(sharedDir(t, "testdata/ispdb"), "*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no ISPDB files: %v", err)
	}
	return files
}

// Every ISPDB file parses, and read → write → read gives the same model.
func TestISPDBRoundTrip(t *testing.T) {
	for _, f := range ispdbFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			p, _, err := ReadConfig(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			var out bytes.Buffer
			if err := WriteConfig(&out, p); err != nil {
				t.Fatalf("write: %v", err)
			}
			q, diags, err := ReadConfig(&out)
			if err != nil {
				t.Fatalf("read back: %v\n%s", err, out.String())
			}
			for _, d := range diags {
				if d.Severity == Error {
					t.Errorf("what we wrote has an error: %s", d)
				}
			}
			clearLines(p)
			clearLines(q)
			if !reflect.DeepEqual(p, q) {
				t.Errorf("round trip changed the settings:\nfirst  %+v\nsecond %+v\n%s", p, q, out.String())
			}
		})
	}
}

func clearLines(p *Provider) {
	for _, list := range [][]Server{p.Incoming, p.Outgoing, p.Others} {
		for i := range list {
			list[i].Line = 0
		}
	}
}
