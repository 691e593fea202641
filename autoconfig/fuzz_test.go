package autoconfig

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// seedFuzz adds the ISPDB (when ../shared is there), our examples and the
// broken files as seeds.
func seedFuzz(f *testing.F) {
	var files []string
	if dir, err := filepath.Abs("../../shared/testdata/ispdb"); err == nil {
		files, _ = filepath.Glob(filepath.Join(dir, "*.xml"))
	}
	bad, _ := filepath.Glob("testdata/bad/*.xml")
	files = append(append(files, bad...), "../examples/example.test.xml")
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`<Autodiscover><Response><Account><Action>settings</Action><Protocol><Type>IMAP</Type><Server>a</Server><Port>1</Port></Protocol></Account></Response></Autodiscover>`))
	f.Add([]byte(`<Autodiscover><Response><Error><ErrorCode>600</ErrorCode></Error></Response></Autodiscover>`))
	f.Add([]byte(`<Autodiscover><Request><EMailAddress>a@b.test</EMailAddress></Request></Autodiscover>`))
}

// Whatever the bytes, the config reader does not panic, and what it accepts
// it can write and read back.
func FuzzReadConfig(f *testing.F) {
	seedFuzz(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, _, err := ReadConfig(bytes.NewReader(data))
		Lint(bytes.NewReader(data))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := WriteConfig(&buf, p); err != nil {
			return // e.g. a provider without an SMTP server's auth; nothing to write
		}
		if _, _, err := ReadConfig(&buf); err != nil {
			t.Fatalf("cannot read back what we wrote: %v\n%s", err, buf.String())
		}
	})
}

// The Autodiscover readers do not panic on any input.
func FuzzReadAutodiscover(f *testing.F) {
	seedFuzz(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if r, err := ReadAutodiscoverResponse(bytes.NewReader(data)); err == nil {
			_, _ = r.Provider("fuzz.test")
			var buf bytes.Buffer
			if _, err := r.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
		}
		_, _ = ReadAutodiscoverRequest(bytes.NewReader(data))
	})
}
