#!/usr/bin/env bash
# Generates the shell completions and the man page that the archives and the
# deb and rpm packages ship: completions/smartmfa.{bash,zsh,fish} and
# manpages/smartmfa.1.gz (both directories are gitignored). GoReleaser runs
# it as a before hook; it builds the binary once, for this machine, and needs
# no network beyond what `go build` already has in its module cache.
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
CGO_ENABLED=0 go build -trimpath -o "$tmp/smartmfa" ./cmd/smartmfa

rm -rf completions manpages
mkdir -p completions manpages
for shell in bash zsh fish; do
	"$tmp/smartmfa" completion "$shell" >"completions/smartmfa.$shell"
done
"$tmp/smartmfa" man >"$tmp/smartmfa.1"
# -n: no name or time stamp in the gzip header, so the file is the same
# whenever it is built.
gzip -9 -n -c "$tmp/smartmfa.1" >manpages/smartmfa.1.gz

# An empty file would make a package that installs nothing useful.
for f in completions/smartmfa.bash completions/smartmfa.zsh completions/smartmfa.fish "$tmp/smartmfa.1"; do
	if [[ ! -s $f ]]; then
		echo "completions-and-man.sh: $f is empty" >&2
		exit 1
	fi
done
