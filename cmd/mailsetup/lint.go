package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"golang.org/x/net/html/charset"

	"github.com/mailsetup/mailsetup/autoconfig"
)

type lintOptions struct {
	f     *Factory
	files []string
}

// lintReport is `lint --json` (docs/json-schema.md).
type lintReport struct {
	SchemaVersion int          `json:"schema_version"`
	Files         []lintedFile `json:"files"`
}

// lintedFile is one file's entry in `lint --json`.
type lintedFile struct {
	File     string                  `json:"file"`
	Kind     string                  `json:"kind"`
	Findings []autoconfig.Diagnostic `json:"findings"`
}

func newCmdLint(f *Factory, runF func(*lintOptions) error) *cobra.Command {
	opts := &lintOptions{f: f}
	return &cobra.Command{
		Use:   "lint FILE...",
		Short: "Check an autoconfig file or Autodiscover response as a mail client reads it",
		Long: `Check Thunderbird autoconfig files (config-v1.1 XML) and Microsoft Autodiscover
responses the way mail clients read them, for hosters who publish them.

IMAP, POP3 and SMTP entries are judged; other server types (exchange, ews,
owa, graph, jmap) are noted. Each finding is one line, FILE:LINE: severity:
message. The exit code is 1 when any file has an error.`,
		Example: "  mailsetup lint examples/example.test.xml\n  mailsetup lint --json autodiscover.xml",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.files = args
			if runF != nil {
				return runF(opts)
			}
			return runLint(opts)
		},
	}
}

func runLint(opts *lintOptions) error {
	io := opts.f.IO
	results := make([]lintedFile, 0, len(opts.files))
	failed := false
	for _, name := range opts.files {
		rep := lintFile(name)
		failed = failed || rep.HasErrors()
		if rep.Findings == nil {
			rep.Findings = []autoconfig.Diagnostic{}
		}
		results = append(results, lintedFile{File: name, Kind: rep.Kind, Findings: rep.Findings})
	}
	if opts.f.JSON {
		if err := writeJSON(io.Out, lintReport{SchemaVersion: jsonSchemaVersion, Files: results}); err != nil {
			return err
		}
	} else {
		clean := 0
		for _, r := range results {
			if len(r.Findings) == 0 {
				clean++
			}
			for _, d := range r.Findings {
				fmt.Fprintf(io.Out, "%s:%d: %s: %s\n", r.File, d.Line, d.Severity, d.Message)
			}
		}
		if io.IsStdoutTTY() || clean == len(results) {
			fmt.Fprintf(io.ErrOut, "%d of %d files have no findings\n", clean, len(results))
		}
	}
	if failed {
		return silentExit(exitFailure)
	}
	return nil
}

// lintKindOther is the kind of a file that is no mail configuration at all.
const lintKindOther = "other"

func lintFile(name string) autoconfig.LintReport {
	unreadable := func(why string) autoconfig.LintReport {
		return autoconfig.LintReport{Findings: []autoconfig.Diagnostic{{Severity: autoconfig.Error, Message: why}}}
	}
	if st, err := os.Stat(name); err == nil && st.IsDir() {
		return unreadable(fmt.Sprintf("%q is a folder, not a file", name))
	}
	f, err := os.Open(name)
	if err != nil {
		return unreadable(fileProblem(err))
	}
	defer f.Close()
	// One byte more than the linter reads, so it still reports a file
	// that is too large.
	data, err := io.ReadAll(io.LimitReader(f, autoconfig.MaxDocumentSize+1))
	if err != nil {
		return unreadable(fileProblem(err))
	}
	// The files mailsetup writes beside the autoconfig ones (a
	// .mobileconfig with its DOCTYPE, user.js, YAML) would otherwise get
	// findings about XML that mislead: say what the file is instead.
	if looks := lookalike(data); looks != "" {
		return autoconfig.LintReport{Kind: lintKindOther, Findings: []autoconfig.Diagnostic{{Line: 1, Severity: autoconfig.Error,
			Message: fmt.Sprintf("%s is not an autoconfig or Autodiscover file (it looks like %s)", name, looks)}}}
	}
	return autoconfig.Lint(bytes.NewReader(data))
}

// declaresEncoding reports whether text starts with an XML declaration
// that names an encoding other than UTF-8 (XML 1.0 §4.3.3).
func declaresEncoding(text string) bool {
	decl, _, ok := strings.Cut(text, "?>")
	if !ok || !strings.HasPrefix(decl, "<?xml") {
		return false
	}
	_, enc, ok := strings.Cut(decl, "encoding=")
	if !ok || len(enc) < 2 {
		return false
	}
	name, _, _ := strings.Cut(enc[1:], enc[:1])
	return !strings.EqualFold(name, "utf-8") && !strings.EqualFold(name, "utf8")
}

// lookalike names what a file that is surely no autoconfig or Autodiscover
// document looks like, or "" when it may be one (the linter judges it).
func lookalike(data []byte) string {
	text := strings.TrimSpace(strings.TrimPrefix(string(data), "\ufeff"))
	switch {
	case text == "":
		return ""
	case bytes.HasPrefix(data, []byte("\x89PNG")):
		return "a PNG image"
	case bytes.HasPrefix(data, []byte("\xff\xfe")) || bytes.HasPrefix(data, []byte("\xfe\xff")):
		return "UTF-16 text, such as a Windows .reg file"
	case data[0] == 0x30: // an ASN.1 SEQUENCE: DER
		return "a signed (CMS) file, such as a signed .mobileconfig"
	case !utf8.Valid(data) && !declaresEncoding(text):
		// A document whose XML declaration names its encoding (such as
		// ISO-8859-1) is text the reader decodes, as mail clients do.
		return "binary data"
	case strings.HasPrefix(text, "{") || strings.HasPrefix(text, "["):
		return "JSON"
	case !strings.HasPrefix(text, "<") && strings.Contains(text, "user_pref("):
		// Only outside XML: in an autoconfig, user_pref( is a hostile value
		// (a display name with a line break), which the linter flags.
		return "a Thunderbird user.js"
	case !strings.HasPrefix(text, "<"):
		for _, line := range strings.Split(text, "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				if key, _, ok := strings.Cut(line, ":"); ok && !strings.ContainsAny(key, " \t<") {
					return "YAML"
				}
				break
			}
		}
		return "plain text"
	}
	dec := xml.NewDecoder(strings.NewReader(text))
	dec.Strict = false
	dec.CharsetReader = charset.NewReaderLabel
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		switch t := tok.(type) {
		case xml.Directive:
			switch doctype := strings.ToLower(string(t)); {
			case strings.Contains(doctype, "plist"):
				return "an Apple configuration profile, a property list such as a .mobileconfig"
			case strings.HasPrefix(doctype, "doctype html"):
				return "an HTML page"
			}
		case xml.StartElement:
			switch strings.ToLower(t.Name.Local) {
			case "plist":
				return "an Apple configuration profile, a property list such as a .mobileconfig"
			case "html":
				return "an HTML page"
			}
			return ""
		}
	}
}
