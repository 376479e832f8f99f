//go:build !unix

package app

// lockFile does nothing where flock(2) is missing: concurrent saves then
// race, and the last rename wins.
func lockFile(string) (unlock func(), err error) { return func() {}, nil }
