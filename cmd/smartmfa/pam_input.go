package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// What pam-verify reads besides the store: the code on its standard input
// and the map from Unix users to smartmfa usernames.

// readCode reads the code pam_exec writes (without a newline; one at the end
// is dropped for a hand-run test). More than maxCodeInput bytes is refused.
func readCode(r io.Reader) (string, error) {
	if r == nil {
		return "", nil
	}
	b, err := io.ReadAll(io.LimitReader(r, maxCodeInput+1))
	if err != nil {
		return "", fmt.Errorf("reading the code: %w", err)
	}
	if len(b) > maxCodeInput {
		return "", fmt.Errorf("the input is longer than %d bytes, so not a code", maxCodeInput)
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	return string(b), nil
}

// mapUser is the smartmfa user of a Unix user: the same name, or its line in
// the map file. The map decides who answers for whom, so it must be root's.
func mapUser(path, unixUser string) (string, error) {
	if path == "" {
		return unixUser, nil
	}
	m, err := readUserMap(path)
	if err != nil {
		return "", err
	}
	if u, ok := m[unixUser]; ok {
		return u, nil
	}
	return unixUser, nil
}

// readUserMap reads a map file of "unix-name smartmfa-name" lines; blank
// lines and lines starting with # are skipped. The file must be a regular
// file that root owns and only root may write.
func readUserMap(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("the map file %s cannot be read: %w", path, errors.Unwrap(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("the map file %s cannot be read: %w", path, err)
	}
	if err := checkRootOwned(path, fi); err != nil {
		return nil, err
	}
	m := map[string]string{}
	sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 {
			return nil, fmt.Errorf("the map file %s, line %d: want \"unix-name smartmfa-name\"", path, n)
		}
		if _, dup := m[fields[0]]; dup {
			return nil, fmt.Errorf("the map file %s, line %d: %s is mapped twice", path, n, quote(fields[0]))
		}
		m[fields[0]] = fields[1]
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("the map file %s cannot be read: %w", path, err)
	}
	return m, nil
}
