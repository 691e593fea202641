package main

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"testing"
)

// The command line goes through the prober for every login, so the
// password rule, --timeout and the refusal limits hold everywhere (issue 12):
// it must not reach for the verification package itself.
func TestCmdDoesNotImportVerify(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if path, _ := strconv.Unquote(imp.Path.Value); path == "github.com/mailsetup/mailsetup/probe/verify" {
				t.Errorf("%s imports %s: log in through probe instead", name, path)
			}
		}
	}
}
