package graphtest

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

func (g *Graph) getMe(base string, q url.Values) graphReply {
	if rep, ok := checkQuery(q, "$select"); !ok {
		return rep
	}
	g.mu.Lock()
	me := g.me
	g.mu.Unlock()
	proxies := me.ProxyAddresses
	if proxies == nil {
		proxies = []string{}
	}
	all := map[string]any{
		"id": me.ID, "displayName": me.DisplayName, "mail": nullIfEmpty(me.Mail),
		"userPrincipalName": me.UserPrincipalName, "proxyAddresses": proxies,
		"givenName": nil, "surname": nil, "jobTitle": nil, "mobilePhone": nil,
		"officeLocation": nil, "preferredLanguage": nil, "businessPhones": []string{},
	}
	defaults := []string{"businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"}
	out, rep, ok := selectFields(all, q.Get("$select"), defaults, "Microsoft.DirectoryServices.User")
	if !ok {
		rep.body.(map[string]any)["error"].(map[string]any)["code"] = "Request_BadRequest"
		return rep
	}
	out["@odata.context"] = base + "/$metadata#users/$entity"
	return graphOK(out)
}

func (g *Graph) listMessages(base string, q url.Values) graphReply {
	if rep, ok := checkQuery(q, "$filter", "$select", "$expand", "$top", "$skip"); !ok {
		return rep
	}
	top, skip, rep, ok := parsePage(q)
	if !ok {
		return rep
	}
	propID, rep, ok := parseExpand(q)
	if !ok {
		return rep
	}
	filter, rep, ok := parseMessageFilter(q.Get("$filter"))
	if !ok {
		return rep
	}

	g.mu.Lock()
	var hits []*storedMessage
	for _, sm := range g.messages {
		if filter.match(sm) {
			hits = append(hits, sm)
		}
	}
	slices.SortFunc(hits, func(a, b *storedMessage) int {
		if c := b.msg.ReceivedDateTime.Compare(a.msg.ReceivedDateTime); c != 0 {
			return c
		}
		return strings.Compare(a.msg.ID, b.msg.ID)
	})
	total := len(hits)
	skip = min(skip, total)
	end := min(skip+top, total)
	value := make([]map[string]any, 0, end-skip)
	for _, sm := range hits[skip:end] {
		out, rep, ok := selectFields(messageJSON(sm, false), q.Get("$select"), messageDefaults, "microsoft.graph.message")
		if !ok {
			g.mu.Unlock()
			return rep
		}
		g.expandPropertiesLocked(out, &sm.msg, propID)
		value = append(value, out)
	}
	g.mu.Unlock()

	resp := map[string]any{
		"@odata.context": base + "/$metadata#users('" + g.meID() + "')/messages",
		"value":          value,
	}
	if end < total {
		resp["@odata.nextLink"] = nextLink(base, "/me/messages", q, end)
	}
	return graphOK(resp)
}

func (g *Graph) meID() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.me.ID
}

func (g *Graph) getMessage(base, id string, q url.Values, h http.Header) graphReply {
	if rep, ok := checkQuery(q, "$select", "$expand"); !ok {
		return rep
	}
	propID, rep, ok := parseExpand(q)
	if !ok {
		return rep
	}
	g.mu.Lock()
	g.noteReadLocked(id, time.Now())
	if rep, poisoned := g.poisonedLocked(id); poisoned && readsBody(q.Get("$select")) {
		g.mu.Unlock()
		return rep
	}
	sm, found := g.messages[id]
	if found {
		g.stats.MessageReads[id]++
	}
	var all map[string]any
	text := prefersText(h)
	if found {
		all = messageJSON(sm, text)
	}
	if !found {
		g.mu.Unlock()
		return graphFail(http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
	}
	out, rep, ok := selectFields(all, q.Get("$select"), messageDefaults, "microsoft.graph.message")
	if !ok {
		g.mu.Unlock()
		return rep
	}
	g.expandPropertiesLocked(out, &sm.msg, propID)
	g.mu.Unlock()
	out["@odata.context"] = base + "/$metadata#users('" + g.meID() + "')/messages/$entity"
	r := graphOK(out)
	if text {
		r.header.Set("Preference-Applied", `outlook.body-content-type="text"`)
	}
	return r
}
