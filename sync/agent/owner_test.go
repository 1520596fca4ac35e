package agent

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// stateFacts are the fields of storage.Meta that say what a person sees;
// only the agent's loop writes them.
var stateFacts = map[string]bool{"Paused": true, "LastError": true, "NeedsReconnect": true, "FailingSince": true}

// TestOneOwnerOfTheFacts: outside the agent package no code under sync/
// writes a state fact of storage.Meta, and in the whole of sync/ only the
// loop (loop.go) calls Board.Update. A second writer is how the facts and
// the status came apart before (they were mirrored by hand in three
// packages).
func TestOneOwnerOfTheFacts(t *testing.T) {
	fset := token.NewFileSet()
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		inAgent := filepath.Dir(path) == filepath.Join("..", "agent")
		isLoop := inAgent && filepath.Base(path) == "loop.go"
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncDecl:
				if !inAgent {
					checkMetaWrites(t, fset, n.Type, n.Body)
				}
			case *ast.FuncLit:
				if !inAgent {
					checkMetaWrites(t, fset, n.Type, n.Body)
				}
			case *ast.CallExpr:
				sel, ok := n.Fun.(*ast.SelectorExpr)
				if ok && sel.Sel.Name == "Update" && !isLoop && updatesStatus(n) {
					t.Errorf("%s: Board.Update outside the agent's loop", fset.Position(n.Pos()))
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// updatesStatus reports whether call is an Update given a function of a
// *Status (Board.Update's form).
func updatesStatus(call *ast.CallExpr) bool {
	if len(call.Args) != 1 {
		return false
	}
	f, ok := call.Args[0].(*ast.FuncLit)
	if !ok || f.Type.Params == nil || len(f.Type.Params.List) != 1 {
		return false
	}
	star, ok := f.Type.Params.List[0].Type.(*ast.StarExpr)
	if !ok {
		return false
	}
	switch x := star.X.(type) {
	case *ast.Ident:
		return x.Name == "Status"
	case *ast.SelectorExpr:
		return x.Sel.Name == "Status"
	}
	return false
}

// checkMetaWrites reports assignments to a state fact of a *storage.Meta
// parameter of a function.
func checkMetaWrites(t *testing.T, fset *token.FileSet, typ *ast.FuncType, body *ast.BlockStmt) {
	t.Helper()
	if body == nil || typ.Params == nil {
		return
	}
	metas := map[string]bool{}
	for _, p := range typ.Params.List {
		star, ok := p.Type.(*ast.StarExpr)
		if !ok {
			continue
		}
		if sel, ok := star.X.(*ast.SelectorExpr); ok && sel.Sel.Name == "Meta" {
			for _, n := range p.Names {
				metas[n.Name] = true
			}
		}
	}
	if len(metas) == 0 {
		return
	}
	ast.Inspect(body, func(n ast.Node) bool {
		as, ok := n.(*ast.AssignStmt)
		if !ok {
			return true
		}
		for _, lhs := range as.Lhs {
			sel, ok := lhs.(*ast.SelectorExpr)
			if !ok {
				continue
			}
			if id, ok := sel.X.(*ast.Ident); ok && metas[id.Name] && stateFacts[sel.Sel.Name] {
				t.Errorf("%s: %s.%s written outside the agent's loop", fset.Position(as.Pos()), id.Name, sel.Sel.Name)
			}
		}
		return true
	})
}
