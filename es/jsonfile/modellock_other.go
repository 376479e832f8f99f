//go:build !unix

package jsonfile

// lockModelFile does nothing where flock(2) is missing: concurrent model
// saves then race, and the last rename wins.
func lockModelFile(string) (unlock func(), err error) { return func() {}, nil }
