package graphtest

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// checkQuery rejects query options the route does not take, as Graph does.
func checkQuery(q url.Values, allowed ...string) (graphReply, bool) {
	for k, v := range q {
		if !slices.Contains(allowed, k) {
			return badRequest("BadRequest", fmt.Sprintf("Query option '%s' is not allowed.", k)), false
		}
		if len(v) > 1 {
			return badRequest("BadRequest", fmt.Sprintf("Query option '%s' was specified more than once, but it must be specified at most once.", k)), false
		}
	}
	return graphReply{}, true
}

// selectFields keeps the fields named by $select (plus id, which Graph always
// returns), or the defaults without $select. An unknown field is a 400.
func selectFields(all map[string]any, sel string, defaults []string, typeName string) (map[string]any, graphReply, bool) {
	out := map[string]any{}
	if tag, ok := all["@odata.etag"]; ok {
		out["@odata.etag"] = tag
	}
	names := defaults
	if sel != "" {
		names = []string{"id"}
		for _, f := range strings.Split(sel, ",") {
			f = strings.TrimSpace(f)
			canon := ""
			for k := range all {
				if strings.EqualFold(k, f) && !strings.HasPrefix(k, "@") {
					canon = k
				}
			}
			if canon == "" {
				return nil, badRequest("RequestBroker--ParseUri", fmt.Sprintf("Could not find a property named '%s' on type '%s'.", f, typeName)), false
			}
			names = append(names, canon)
		}
	}
	for _, n := range names {
		out[n] = all[n]
	}
	return out, graphReply{}, true
}

// parsePage reads $top (10 by default, at most 1000) and $skip (0 by
// default); a bad value is Graph's 400.
func parsePage(q url.Values) (top, skip int, rep graphReply, ok bool) {
	const defTop, maxTop = 10, 1000
	top, skip = defTop, 0
	if v := q.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxTop {
			return 0, 0, badRequest("ErrorInvalidParameter", fmt.Sprintf("The value '%s' of parameter 'Top' should be between 1 and %d.", v, maxTop)), false
		}
		top = n
	}
	if v := q.Get("$skip"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, 0, badRequest("BadRequest", fmt.Sprintf("Invalid value '%s' for $skip query option found.", v)), false
		}
		skip = n
	}
	return top, skip, graphReply{}, true
}

// nextLink is the URL of the page after skip+top, keeping every other option.
func nextLink(base, path string, q url.Values, next int) string {
	nq := url.Values{}
	for k, v := range q {
		nq[k] = slices.Clone(v)
	}
	nq.Set("$skip", strconv.Itoa(next))
	return base + path + "?" + nq.Encode()
}

// expandExtendedRE matches $expand=singleValueExtendedProperties($filter=...)
// with one or more "id eq '...'" joined by "or", as Graph's
// extended-properties docs show them.
var (
	expandExtendedRE = regexp.MustCompile(`^(?i:singleValueExtendedProperties)\(\$filter=(.+)\)$`)
	expandIDRE       = regexp.MustCompile(`^\s*(?i:id) eq '([^']+)'\s*$`)
	expandOrRE       = regexp.MustCompile(`\s+(?i:or)\s+`)
)

// normalizePropertyID turns "String 0x001A" into Graph's answer form
// "String 0x1a". Ids of other shapes (named properties) are left alone.
func normalizePropertyID(id string) (string, bool) {
	typ, tag, ok := strings.Cut(strings.TrimSpace(id), " ")
	if !ok {
		return "", false
	}
	tag = strings.TrimSpace(tag)
	hex, ok := strings.CutPrefix(strings.ToLower(tag), "0x")
	if !ok {
		return "", false
	}
	n, err := strconv.ParseUint(hex, 16, 32)
	if err != nil {
		return "", false
	}
	canon := strings.ToUpper(typ[:1]) + strings.ToLower(typ[1:])
	return fmt.Sprintf("%s 0x%x", canon, n), true
}

// parseExpand returns the normalised extended property id asked for by
// $expand, "" when there is none.
func parseExpand(q url.Values) ([]string, graphReply, bool) {
	v := q.Get("$expand")
	if v == "" {
		return nil, graphReply{}, true
	}
	m := expandExtendedRE.FindStringSubmatch(v)
	if m == nil {
		return nil, badRequest("BadRequest", fmt.Sprintf("Parsing OData Select and Expand failed: Could not find a property named '%s' on type 'microsoft.graph.message'.", v)), false
	}
	var ids []string
	for _, term := range expandOrRE.Split(m[1], -1) {
		tm := expandIDRE.FindStringSubmatch(term)
		if tm == nil {
			return nil, badRequest("BadRequest", fmt.Sprintf("Invalid filter clause: '%s'.", term)), false
		}
		id, ok := normalizePropertyID(tm[1])
		if !ok {
			return nil, badRequest("ErrorInvalidProperty", fmt.Sprintf("The property id '%s' is invalid.", tm[1])), false
		}
		ids = append(ids, id)
	}
	return ids, graphReply{}, true
}

// The $filter the fake understands on /me/messages: one or more
// "<property> ge <UTC date-time>" joined by "and", the property being
// receivedDateTime or lastModifiedDateTime (both DateTimeOffset properties
// of the message resource, resources/message.md), and
// "receivedDateTime lt <UTC date-time>" to end a range, as Graph's own
// example of a month's mail does (docs/evidence.md, "GET /me/messages").
// OData keywords are lower case. Anything else is refused, as Graph refuses
// a query it cannot run: 400 with an error code (user-list-messages.md
// shows the code InefficientFilter; ErrorInvalidUrlQueryFilter is
// Outlook's code for an unsupported filter).
var (
	filterAndRE    = regexp.MustCompile(`\s+and\s+`)
	filterClauseRE = regexp.MustCompile(`^\s*(receivedDateTime|lastModifiedDateTime) (ge|lt) (\S+)\s*$`)
)

// messageFilter is a parsed $filter: a message is listed when it was
// received at or after received (and before before, when set) and last
// modified at or after modified.
type messageFilter struct {
	received, modified time.Time
	before             time.Time
}

func (f messageFilter) match(sm *storedMessage) bool {
	if !f.before.IsZero() && !sm.msg.ReceivedDateTime.Before(f.before) {
		return false
	}
	return !sm.msg.ReceivedDateTime.Before(f.received) && !sm.modified.Before(f.modified)
}

func parseMessageFilter(v string) (messageFilter, graphReply, bool) {
	var f messageFilter
	if v == "" {
		return f, graphReply{}, true
	}
	for _, clause := range filterAndRE.Split(v, -1) {
		m := filterClauseRE.FindStringSubmatch(clause)
		if m == nil {
			return f, badRequest("ErrorInvalidUrlQueryFilter", "The query filter contains one or more invalid nodes."), false
		}
		t, err := time.Parse(time.RFC3339Nano, m[3])
		if err != nil {
			return f, badRequest("BadRequest", fmt.Sprintf("Invalid filter clause: The DateTimeOffset text '%s' should be in format 'yyyy-mm-ddThh:mm:ss('.'s+)?(zzzzzz)?' and each field value is within valid range.", m[3])), false
		}
		if m[2] == "lt" {
			if m[1] != "receivedDateTime" {
				// Only the range Graph documents is understood.
				return f, badRequest("ErrorInvalidUrlQueryFilter", "The query filter contains one or more invalid nodes."), false
			}
			if f.before.IsZero() || t.Before(f.before) {
				f.before = t
			}
			continue
		}
		bound := &f.received
		if m[1] == "lastModifiedDateTime" {
			bound = &f.modified
		}
		if t.After(*bound) {
			*bound = t
		}
	}
	return f, graphReply{}, true
}

// readsBody reports whether a read with this $select returns the body:
// Graph's default projection does.
func readsBody(sel string) bool {
	if strings.TrimSpace(sel) == "" {
		return true
	}
	for _, f := range strings.Split(sel, ",") {
		if strings.EqualFold(strings.TrimSpace(f), "body") {
			return true
		}
	}
	return false
}

// prefersText reports whether the Prefer header asks for text bodies.
func prefersText(h http.Header) bool {
	for _, v := range h.Values("Prefer") {
		for _, p := range strings.Split(v, ",") {
			k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "outlook.body-content-type") &&
				strings.EqualFold(strings.Trim(strings.TrimSpace(val), `"`), "text") {
				return true
			}
		}
	}
	return false
}
