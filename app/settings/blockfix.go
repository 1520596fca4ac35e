package settings

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailsync/sync/match"
)

// blockFix is a blocklist line that is not an entry but whose meaning is
// plain ("*@acme.com", "acme.com": the whole domain), with the entry meant.
type blockFix struct {
	line  int // 1-based
	text  string
	entry string
}

// blockFixOf is the entry a person probably meant by line, or false.
func blockFixOf(line string) (string, bool) {
	_, fix, ok := match.ReadBlockLine(line)
	return fix, !ok && fix != ""
}

// blockFixes are the lines of text that have a plain fix.
func blockFixes(text string) []blockFix {
	var out []blockFix
	for i, line := range strings.Split(text, "\n") {
		if e, ok := blockFixOf(line); ok {
			out = append(out, blockFix{line: i + 1, text: strings.TrimSpace(line), entry: e})
		}
	}
	return out
}

// fixLabel is the fix button's text: "Use @acme.com" for one line, "Use
// @acme.com and 2 more" for several.
func fixLabel(fixes []blockFix) string {
	if len(fixes) > 1 {
		return fmt.Sprintf(useFixMore, shorten(fixes[0].entry, 40), len(fixes)-1)
	}
	return fmt.Sprintf(useFix, shorten(fixes[0].entry, 40))
}

// shorten cuts s to at most n characters with an ellipsis, so that a long
// line a person typed cannot widen the window past its size.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// newFixButton is the one-click fix of the blocklist's lines, beside Save:
// hidden until a save finds lines it can fix.
func (p *optionsPage) newFixButton() *widget.Button {
	b := widget.NewButtonWithIcon("", theme.ConfirmIcon(), p.applyFixes)
	b.Importance = widget.HighImportance
	b.Hide()
	return b
}

// showFixes offers the fix of the blocklist's lines when there is one.
func (p *optionsPage) showFixes() {
	fixes := blockFixes(p.blocklist.Text)
	if len(fixes) == 0 {
		p.fixBtn.Hide()
		return
	}
	p.fixBtn.SetText(fixLabel(fixes))
	p.fixBtn.Show()
}

// applyFixes rewrites each line that has a plain fix as the entry it means
// and saves the blocklist, as the person would by editing and saving.
func (p *optionsPage) applyFixes() {
	lines := strings.Split(p.blocklist.Text, "\n")
	for _, f := range blockFixes(p.blocklist.Text) {
		lines[f.line-1] = f.entry
	}
	p.fixBtn.Hide()
	p.blocklist.SetText(strings.Join(lines, "\n"))
	p.saveBlocklist()
}

// TypeBlocklist puts text into the Options page's blocklist and saves it,
// as a person typing and pressing Save would. The screenshot tooling uses
// it.
func (w *Window) TypeBlocklist(text string) {
	w.options.blocklist.SetText(text)
	w.options.saveBlocklist()
}
