//go:build race

package sshserve

// raceDetector is true under -race, whose shadow memory the process keeps:
// memory bounds are looser there.
const raceDetector = true
