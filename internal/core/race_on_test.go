//go:build race

package core

// raceDetector is true under -race, where each write costs several times
// more: tests that loop thousands of times loop fewer.
const raceDetector = true
