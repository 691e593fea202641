package probe

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The words for people belong to the command line (issue 12): package
// probe returns typed results, and the CLI's report_text.go writes them.
// This fails if probe grows a text report again: a function that writes to
// an io.Writer, or a table writer.
func TestProbeHoldsNoTextReport(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if path, _ := strconv.Unquote(imp.Path.Value); path == "text/tabwriter" {
				t.Errorf("%s imports text/tabwriter: tables for people belong in cmd/mailsetup", name)
			}
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok {
				continue
			}
			for _, p := range fn.Type.Params.List {
				if sel, ok := p.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "Writer" {
					if x, ok := sel.X.(*ast.Ident); ok && x.Name == "io" {
						t.Errorf("%s: %s writes to an io.Writer: text for people belongs in cmd/mailsetup/report_text.go", fset.Position(fn.Pos()), fn.Name.Name)
					}
				}
			}
		}
	}
}
