//go:build race

package wordvec

// raceEnabled is true under the race detector, which rightly flags the
// lock-free (Hogwild) weight updates of several training threads: tests
// then train with one thread.
const raceEnabled = true
