package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/mailsetup/mailsetup/autoconfig"
)

type lintOptions struct {
	f     *Factory
	files []string
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
		if err := writeJSON(io.Out, map[string]any{"schema_version": jsonSchemaVersion, "files": results}); err != nil {
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

func lintFile(name string) autoconfig.LintReport {
	f, err := os.Open(name)
	if err != nil {
		return autoconfig.LintReport{Findings: []autoconfig.Diagnostic{{Severity: autoconfig.Error, Message: fmt.Sprintf("cannot read the file: %v", err)}}}
	}
	defer f.Close()
	return autoconfig.Lint(f)
}
