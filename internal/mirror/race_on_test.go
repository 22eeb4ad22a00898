//go:build race

package mirror_test

// raceEnabled: the race detector maps terabytes of shadow memory, so an
// address-space limit (ulimit -v) cannot be used under it.
const raceEnabled = true
