package settings

import (
	"strconv"
	"time"
)

func itoa(n int) string { return strconv.Itoa(n) }

// when says when t happened or will happen relative to now, in now's time
// zone: "10:42 today", "10:42 yesterday", "10:42 tomorrow", "Mon 10:42"
// within a week, "2 Jan 10:42" otherwise.
func when(t, now time.Time) string {
	t = t.In(now.Location())
	clock := t.Format("15:04")
	ty, tm, td := t.Date()
	day := time.Date(ty, tm, td, 0, 0, 0, 0, now.Location())
	ny, nm, nd := now.Date()
	today := time.Date(ny, nm, nd, 0, 0, 0, 0, now.Location())
	switch days := int(today.Sub(day).Round(time.Hour).Hours() / 24); {
	case days == 0:
		return clock + " today"
	case days == 1:
		return clock + " yesterday"
	case days == -1:
		return clock + " tomorrow"
	case days > 1 && days < 7:
		return t.Format("Mon") + " " + clock
	}
	if ty != ny {
		return t.Format("2 Jan 2006 15:04")
	}
	return t.Format("2 Jan 15:04")
}

// shortWhen is when without the word "today", for dense lists.
func shortWhen(t, now time.Time) string {
	s := when(t, now)
	if len(s) > 6 && s[5:] == " today" {
		return s[:5]
	}
	return s
}
