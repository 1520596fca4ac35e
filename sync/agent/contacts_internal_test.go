package agent

import "testing"

func TestSplitName(t *testing.T) {
	for _, tc := range []struct{ name, first, last string }{
		{"Olivia Park", "Olivia", "Park"},
		{"  Mary Ann  van Dyke ", "Mary Ann van", "Dyke"},
		{"Park, Olivia", "Olivia", "Park"},
		{`"Olivia Park"`, "Olivia", "Park"},
		{"Olivia Park (Tailspin)", "Olivia", "Park"},
		{"Olivia", "Olivia", ""},
		{"olivia.park@tailspin.example", "", ""},
		{"", "", ""},
	} {
		if f, l := splitName(tc.name); f != tc.first || l != tc.last {
			t.Errorf("splitName(%q) = %q, %q; want %q, %q", tc.name, f, l, tc.first, tc.last)
		}
	}
}
