// Package archtest holds the tests of smartmfa's layering: cmd -> tui/sshserve
// -> core -> db, with every rule in core.
package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/smartnumbers/smartmfa"

// deps lists the packages pkg depends on, itself included.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
	}
	return strings.Fields(string(out))
}

// TestScreensAndServerNeverImportTheStore: the console and the SSH server
// reach the store only through core. internal/db is in their dependencies
// because core imports it, so what is checked is who imports it: neither
// package, nor any other package of ours they depend on, but core.
func TestScreensAndServerNeverImportTheStore(t *testing.T) {
	for _, pkg := range []string{"tui", "sshserve"} {
		matches, _ := filepath.Glob(filepath.Join("..", pkg, "*.go"))
		if len(matches) == 0 {
			continue // the package does not exist yet
		}
		out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{join .Imports \" \"}}",
			module+"/internal/"+pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			fields := strings.Fields(line)
			if len(fields) == 0 || fields[0] == module+"/internal/core" || !strings.HasPrefix(fields[0], module+"/") {
				continue
			}
			for _, imp := range fields[1:] {
				if imp == module+"/internal/db" {
					t.Errorf("%s (a dependency of internal/%s) imports internal/db: it must go through internal/core", fields[0], pkg)
				}
			}
		}
	}
}

func TestStoreKnowsNothingOfRules(t *testing.T) {
	for _, d := range deps(t, module+"/internal/db") {
		if strings.HasPrefix(d, module+"/internal/") && d != module+"/internal/db" {
			t.Errorf("internal/db imports %s", d)
		}
	}
}

// TestCommandsUseTheStoreOnlyForPaths lets cmd name the store (a file, or
// a PostgreSQL URL), and nothing else: every query goes through core.
func TestCommandsUseTheStoreOnlyForPaths(t *testing.T) {
	allowed := map[string]bool{"DefaultPath": true, "EnsureDefaultDir": true, "FileName": true, "IsPostgres": true}
	files, _ := filepath.Glob(filepath.Join("..", "..", "cmd", "smartmfa", "*.go"))
	if len(files) == 0 {
		t.Fatal("no files found in cmd/smartmfa")
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		local := ""
		for _, imp := range file.Imports {
			if strings.Trim(imp.Path.Value, `"`) == module+"/internal/db" {
				local = "db"
				if imp.Name != nil {
					local = imp.Name.Name
				}
			}
		}
		if local == "" {
			continue
		}
		ast.Inspect(file, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == local && !allowed[sel.Sel.Name] &&
				!storeToStore[filepath.Base(f)][sel.Sel.Name] {
				t.Errorf("%s uses db.%s: cmd may use internal/db only to locate the file", fset.Position(sel.Pos()), sel.Sel.Name)
			}
			return true
		})
	}
}

// storeToStore is what `smartmfa copy` (copy.go) may use of internal/db
// besides the paths: it moves every row of one store into another as
// stored, with no rule to apply and no key to open, so core has nothing to
// add between the command and the store.
var storeToStore = map[string]map[string]bool{
	"copy.go": {"IsPostgres": true, "Open": true, "CopyStore": true, "ErrTargetNotEmpty": true},
}

// TestQRCodeIsALeaf: the QR drawing that the console and pam-enrol share
// knows nothing of smartmfa, so either may use it without a layer between.
func TestQRCodeIsALeaf(t *testing.T) {
	for _, d := range deps(t, module+"/internal/qrcode") {
		if strings.HasPrefix(d, module+"/") && d != module+"/internal/qrcode" {
			t.Errorf("internal/qrcode imports %s", d)
		}
	}
}
