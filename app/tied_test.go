package app

import "sync"

// sync1 makes f safe to call more than once.
func sync1(f func()) func() {
	var once sync.Once
	return func() { once.Do(f) }
}
