//go:build race

package boardtest

// raceEnabled makes the suite smaller under the race detector, which
// slows SQLite (compiled Go) by an order of magnitude: fewer times and
// queries per check, fewer kill rounds. The full suite runs without it.
const raceEnabled = true
