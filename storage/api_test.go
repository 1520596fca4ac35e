package storage

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strings"
	"testing"
)

// TestExportedAPIHidesTheEngine: storage speaks the domain. No exported
// function, method, type, field, variable or constant mentions bbolt (a
// transaction, a bucket, the database), and no exported variable is a
// []byte (a bucket or key name), so no caller can depend on the layout of
// the file.
func TestExportedAPIHidesTheEngine(t *testing.T) {
	fset := token.NewFileSet()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]*ast.File{}
	for _, e := range entries {
		if n := e.Name(); strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
			f, err := parser.ParseFile(fset, n, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			files[n] = f
		}
	}
	boltNames := map[string]bool{}
	seenFuncs := 0
	for name, f := range files {
		for _, imp := range f.Imports {
			path := strings.Trim(imp.Path.Value, `"`)
			if strings.HasPrefix(path, "go.etcd.io/bbolt") {
				if imp.Name == nil {
					t.Fatalf("%s imports %s without a name; name it so this test can follow it", name, path)
				}
				boltNames[imp.Name.Name] = true
			}
		}
	}
	if len(boltNames) == 0 {
		t.Fatal("storage imports no bbolt package; this test would prove nothing")
	}
	mentionsBolt := func(n ast.Node) bool {
		found := false
		ast.Inspect(n, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if id, ok := sel.X.(*ast.Ident); ok && boltNames[id.Name] {
					found = true
				}
			}
			return !found
		})
		return found
	}
	for name, f := range files {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if !d.Name.IsExported() || (d.Recv != nil && !exportedRecv(d.Recv)) {
					continue
				}
				seenFuncs++
				if mentionsBolt(d.Type) {
					t.Errorf("%s: %s takes or returns a bbolt type", name, d.Name.Name)
				}
			case *ast.GenDecl:
				for _, sp := range d.Specs {
					switch sp := sp.(type) {
					case *ast.TypeSpec:
						if !sp.Name.IsExported() {
							continue
						}
						st, isStruct := sp.Type.(*ast.StructType)
						if !isStruct {
							if mentionsBolt(sp.Type) {
								t.Errorf("%s: type %s is made of bbolt types", name, sp.Name.Name)
							}
							continue
						}
						for _, fld := range st.Fields.List {
							exported := len(fld.Names) == 0
							for _, n := range fld.Names {
								exported = exported || n.IsExported()
							}
							if exported && mentionsBolt(fld.Type) {
								t.Errorf("%s: an exported field of %s is a bbolt type", name, sp.Name.Name)
							}
						}
					case *ast.ValueSpec:
						for i, n := range sp.Names {
							if !n.IsExported() {
								continue
							}
							if sp.Type != nil && (mentionsBolt(sp.Type) || isByteSlice(sp.Type)) {
								t.Errorf("%s: %s exposes the file's layout", name, n.Name)
							}
							if i < len(sp.Values) && (mentionsBolt(sp.Values[i]) || isByteSliceLit(sp.Values[i])) {
								t.Errorf("%s: %s exposes the file's layout", name, n.Name)
							}
						}
					}
				}
			}
		}
	}
	if seenFuncs < 10 {
		t.Fatalf("only %d exported functions seen; the walk is broken", seenFuncs)
	}
}

func exportedRecv(r *ast.FieldList) bool {
	if len(r.List) == 0 {
		return false
	}
	t := r.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	id, ok := t.(*ast.Ident)
	return ok && id.IsExported()
}

func isByteSlice(e ast.Expr) bool {
	a, ok := e.(*ast.ArrayType)
	if !ok || a.Len != nil {
		return false
	}
	id, ok := a.Elt.(*ast.Ident)
	return ok && id.Name == "byte"
}

// isByteSliceLit reports []byte("...") conversions and []byte{...} literals.
func isByteSliceLit(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.CallExpr:
		return isByteSlice(e.Fun)
	case *ast.CompositeLit:
		return e.Type != nil && isByteSlice(e.Type)
	}
	return false
}
