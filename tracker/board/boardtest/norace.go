//go:build !race

package boardtest

const raceEnabled = false
