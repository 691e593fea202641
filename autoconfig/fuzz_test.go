package autoconfig

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
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
		// What the reader accepts, the model accepts: the reader runs the
		// same checks as Validate.
		if err := p.Validate(); err != nil {
			t.Fatalf("ReadConfig accepted what Validate refuses: %v", err)
		}
		var buf bytes.Buffer
		if err := WriteConfig(&buf, p); err != nil {
			t.Fatalf("cannot write what we read: %v", err)
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
			if p, err := r.Provider("fuzz.test"); err == nil {
				if err := p.Validate(); err != nil {
					t.Fatalf("Provider gave what Validate refuses: %v", err)
				}
			}
			var buf bytes.Buffer
			if _, err := r.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
		}
		_, _ = ReadAutodiscoverRequest(bytes.NewReader(data))
	})
}

// Whatever ParseHostname accepts is a lower-case LDH name of at most 253
// octets in labels of at most 63, and parses to itself again.
func FuzzParseHostname(f *testing.F) {
	for in := range badHostnames {
		f.Add(in)
	}
	for _, in := range []string{"imap.example.test", "MAIL.Bücher.test.", "xn--bcher-kva.test", "a.b", "mail.%EMAILDOMAIN%"} {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		h, err := ParseHostname(in)
		if err != nil {
			if !errors.Is(err, ErrBadHostname) || strings.Contains(err.Error(), "idna:") {
				t.Fatalf("ParseHostname(%q) error %v", in, err)
			}
			return
		}
		if len(h) > 253 || strings.Count(h, ".") < 1 {
			t.Fatalf("ParseHostname(%q) = %q", in, h)
		}
		for _, l := range strings.Split(h, ".") {
			if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
				t.Fatalf("ParseHostname(%q) = %q: label %q", in, h, l)
			}
			for i := 0; i < len(l); i++ {
				if c := l[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
					t.Fatalf("ParseHostname(%q) = %q: byte %q", in, h, c)
				}
			}
		}
		if again, err := ParseHostname(h); err != nil || again != h {
			t.Fatalf("ParseHostname(%q) = %q, but that parses to %q, %v", in, h, again, err)
		}
	})
}

// Whatever ParseAddress accepts has no control character, a dot-atom local
// part of at most 64 octets and a valid domain, and parses to itself again.
func FuzzParseAddress(f *testing.F) {
	for _, in := range []string{"jane@example.test", "jörg@bücher.test", "al\x01ice@example.test", "alice\x7f@example.test",
		".alice@example.test", "alice.@example.test", "al..ice@example.test", "alice@[127.0.0.1]", "alice@127.0.0.1",
		strings.Repeat("a", 65) + "@example.test", "a@b", "x@evil.test@example.test", "jane@-.test\n"} {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		a, err := ParseAddress(in)
		if err != nil {
			if !errors.Is(err, ErrBadAddress) || strings.Contains(err.Error(), "idna:") {
				t.Fatalf("ParseAddress(%q) error %v", in, err)
			}
			return
		}
		if len(a.LocalPart) > 64 || strings.IndexFunc(a.String(), isControl) >= 0 || strings.Contains(a.LocalPart, "..") ||
			strings.HasPrefix(a.LocalPart, ".") || strings.HasSuffix(a.LocalPart, ".") {
			t.Fatalf("ParseAddress(%q) = %+v", in, a)
		}
		again, err := ParseAddress(a.ASCII())
		if err != nil || again != a {
			t.Fatalf("ParseAddress(%q) = %+v, but its ASCII form parses to %+v, %v", in, a, again, err)
		}
	})
}

// CheckOneLine lets nothing through that could end a line.
func FuzzCheckOneLine(f *testing.F) {
	for _, in := range []string{"Example Mail", "Example\nuser_pref(1);", "a\rb", "a\u2028b", "\x7f", "Müller"} {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if CheckOneLine("the name", in) == nil && strings.ContainsAny(in, "\r\n\x00\x0b\x0c\x7f\u0085\u2028\u2029") {
			t.Fatalf("CheckOneLine accepted %q", in)
		}
	})
}
