package graphtest

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// AddFolder adds a folder. An empty ID is generated; ParentID "" makes it a
// top-level folder.
func (g *Graph) AddFolder(f Folder) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if f.ID == "" {
		f.ID = g.newIDLocked("AQMk")
	}
	if _, ok := g.folders[f.ID]; !ok {
		g.folderOrder = append(g.folderOrder, f.ID)
	}
	g.folders[f.ID] = &f
}

// wellKnownFolderNames are the names Graph resolves in /me/mailFolders/{name}.
var wellKnownFolderNames = []string{
	"archive", "clutter", "conflicts", "conversationhistory", "deleteditems",
	"drafts", "inbox", "junkemail", "localfailures", "msgfolderroot", "outbox",
	"recoverableitemsdeletions", "scheduled", "searchfolders", "sentitems",
	"serverfailures", "syncissues",
}

// findFolderLocked resolves a folder id or well-known name. A well-known
// name the mailbox lacks is 404 ErrorFolderNotFound; a word that is neither
// an id nor a well-known name is 400 ErrorInvalidIdMalformed, as Graph
// answers.
func (g *Graph) findFolderLocked(idOrName string) (*Folder, graphReply, bool) {
	if f, ok := g.folders[idOrName]; ok {
		return f, graphReply{}, true
	}
	lower := strings.ToLower(idOrName)
	if slices.Contains(wellKnownFolderNames, lower) {
		for _, id := range g.folderOrder {
			if f := g.folders[id]; strings.EqualFold(f.WellKnownName, lower) {
				return f, graphReply{}, true
			}
		}
		return nil, graphFail(http.StatusNotFound, "ErrorFolderNotFound", "The specified folder could not be found in the store."), false
	}
	if len(idOrName) < 20 {
		return nil, badRequest("ErrorInvalidIdMalformed", "Id is malformed."), false
	}
	return nil, graphFail(http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store."), false
}

func (g *Graph) folderJSONLocked(f *Folder) map[string]any {
	children, total := 0, 0
	for _, id := range g.folderOrder {
		if g.folders[id].ParentID == f.ID {
			children++
		}
	}
	for _, sm := range g.messages {
		if sm.msg.ParentFolderID == f.ID {
			total++
		}
	}
	return map[string]any{
		"id": f.ID, "displayName": f.DisplayName, "parentFolderId": f.ParentID,
		"childFolderCount": children, "unreadItemCount": 0, "totalItemCount": total,
		"isHidden": false,
	}
}

var folderDefaults = []string{"id", "displayName", "parentFolderId", "childFolderCount", "unreadItemCount", "totalItemCount", "isHidden"}

func (g *Graph) getFolder(base, idOrName string, q url.Values) graphReply {
	if rep, ok := checkQuery(q, "$select"); !ok {
		return rep
	}
	g.mu.Lock()
	f, rep, ok := g.findFolderLocked(idOrName)
	var all map[string]any
	if ok {
		all = g.folderJSONLocked(f)
	}
	g.mu.Unlock()
	if !ok {
		return rep
	}
	out, rep, ok := selectFields(all, q.Get("$select"), folderDefaults, "microsoft.graph.mailFolder")
	if !ok {
		return rep
	}
	out["@odata.context"] = base + "/$metadata#users('" + g.meID() + "')/mailFolders/$entity"
	return graphOK(out)
}

func (g *Graph) childFolders(base, idOrName string, q url.Values) graphReply {
	if rep, ok := checkQuery(q, "$select", "$top", "$skip"); !ok {
		return rep
	}
	top, skip, rep, ok := parsePage(q)
	if !ok {
		return rep
	}
	g.mu.Lock()
	parent, rep, ok := g.findFolderLocked(idOrName)
	if !ok {
		g.mu.Unlock()
		return rep
	}
	var kids []map[string]any
	for _, id := range g.folderOrder {
		if f := g.folders[id]; f.ParentID == parent.ID {
			kids = append(kids, g.folderJSONLocked(f))
		}
	}
	g.mu.Unlock()
	total := len(kids)
	skip = min(skip, total)
	end := min(skip+top, total)
	value := make([]map[string]any, 0, end-skip)
	for _, k := range kids[skip:end] {
		out, rep, ok := selectFields(k, q.Get("$select"), folderDefaults, "microsoft.graph.mailFolder")
		if !ok {
			return rep
		}
		value = append(value, out)
	}
	resp := map[string]any{
		"@odata.context": base + "/$metadata#users('" + g.meID() + "')/mailFolders('" + parent.ID + "')/childFolders",
		"value":          value,
	}
	if end < total {
		resp["@odata.nextLink"] = nextLink(base, "/me/mailFolders/"+url.PathEscape(idOrName)+"/childFolders", q, end)
	}
	return graphOK(resp)
}
