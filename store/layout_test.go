package store_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Where SQL may be written outside this package: the schema, and dev tooling that measures or
// drills the product from outside (it reads the database as an auditor would, to check it).
var sqlAllowed = []string{
	"store/",
	"migrations/",
	"cmd/",
	"internal/bench/",
	"internal/benchdata/",
	"internal/devstack/",
	"internal/testenv/",
	"internal/fixture/",
}

// A string that starts like an SQL statement.
var sqlStatement = regexp.MustCompile(`(?is)^\s*(select\s|insert\s+into\s|update\s+\w+\s+set\s|delete\s+from\s|with\s+\w+(\s*\([^)]*\))?\s+as\s|copy\s+\w|create\s+(table|index|unique|temp|role|schema|or)\s|alter\s+(table|role)\s|drop\s+(table|index|role)\s|truncate\s|set\s+local\s|analyze\s|lock\s+table\s)`)

// pgx calls that run SQL; Query with no argument (url.Values) is not one.
var sqlCalls = map[string]int{"Exec": 1, "Query": 1, "QueryRow": 1, "CopyFrom": 1, "SendBatch": 1, "Queue": 1}

// TestNoSQLOutsideStore fails for every SQL statement, pgx statement call or COPY target written
// in production code outside this package. It was shown failing by adding
// `db.Exec(ctx, "delete from agents")` to report/report.go, which it named with its line.
func TestNoSQLOutsideStore(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	found := scanForSQL(t, root)
	for _, f := range found {
		t.Errorf("%s", f)
	}
	if len(found) > 0 {
		t.Logf("%d SQL statements or calls outside store/: move them into a typed function of package store", len(found))
	}
}

func scanForSQL(t *testing.T, root string) []string {
	t.Helper()
	var found []string
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			name := d.Name()
			if rel != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		for _, p := range sqlAllowed {
			if strings.HasPrefix(rel, p) {
				return nil
			}
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		found = append(found, sqlIn(fset, rel, f)...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func sqlIn(fset *token.FileSet, rel string, f *ast.File) []string {
	var found []string
	at := func(n ast.Node) string {
		return rel + ":" + strconv.Itoa(fset.Position(n.Pos()).Line)
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BasicLit:
			if n.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(n.Value)
			if err == nil && sqlStatement.MatchString(s) {
				found = append(found, at(n)+": SQL statement "+strconv.Quote(firstWords(s)))
			}
		case *ast.CallExpr:
			sel, ok := n.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if min, ok := sqlCalls[sel.Sel.Name]; ok && len(n.Args) > min {
				found = append(found, at(n)+": call of "+sel.Sel.Name)
			}
		case *ast.CompositeLit:
			if sel, ok := n.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "Identifier" {
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "pgx" {
					found = append(found, at(n)+": pgx.Identifier (a COPY target)")
				}
			}
		}
		return true
	})
	return found
}

func firstWords(s string) string {
	w := strings.Fields(s)
	if len(w) > 4 {
		w = w[:4]
	}
	return strings.Join(w, " ")
}

// TestTheScanFindsSQL is the scan's control: each kind of offence, planted in a file, is found.
func TestTheScanFindsSQL(t *testing.T) {
	src := `package p
func f() {
	db.Exec(ctx, "delete from agents where id = $1", 1)
	rows, _ := db.Query(ctx, ` + "`\n\t\tselect code from units`" + `)
	_ = r.URL.Query().Get("x")
	_ = pgx.Identifier{"import_rows"}
	const q = "with t as (select 1) select * from t"
	_ = "selected agents" // prose, not SQL
}
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := sqlIn(fset, "p/p.go", f)
	want := []string{
		`p/p.go:3: call of Exec`,
		`p/p.go:3: SQL statement "delete from agents where"`,
		`p/p.go:4: call of Query`,
		`p/p.go:4: SQL statement "select code from units"`,
		`p/p.go:7: pgx.Identifier (a COPY target)`,
		`p/p.go:8: SQL statement "with t as (select"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("scan found:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
