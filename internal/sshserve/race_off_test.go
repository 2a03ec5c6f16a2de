//go:build !race

package sshserve

const raceDetector = false
