package locale

import "testing"

func TestIsC(t *testing.T) {
	for v, want := range map[string]bool{
		"C": true, "C.UTF-8": true, "C.utf8": true, "POSIX": true, "C@euro": true,
		"en_US.UTF-8": false, "Chinese": false, "de_CH": false, "": false,
	} {
		if got := IsC(v); got != want {
			t.Errorf("IsC(%q) = %v, want %v", v, got, want)
		}
	}
}
