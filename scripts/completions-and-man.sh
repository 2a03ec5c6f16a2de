#!/usr/bin/env bash
# Generates the shell completions and the man pages that the archives and
# the deb and rpm packages ship: completions/smartmfa.{bash,zsh,fish} and
# manpages/*.1.gz (smartmfa.1.gz and a page per command, as
# `smartmfa man --dir` writes them; both directories are gitignored).
# GoReleaser runs it as a before hook, after `go mod download`; it builds
# the binary once, for this machine, from the module cache, with the
# network turned off.
#
# SMARTMFA_VERSION and SMARTMFA_DATE (RFC 3339), when set, are stamped into
# that binary, so that the pages' header names the release and its date.
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ldflags=
if [[ -n ${SMARTMFA_VERSION:-} ]]; then
	ldflags+=" -X main.version=$SMARTMFA_VERSION"
fi
# GoReleaser gives the zero time when it cannot read the commit (a work
# tree without a remote, in snapshot mode): the generator then dates the
# pages today.
if [[ -n ${SMARTMFA_DATE:-} && $SMARTMFA_DATE != 0001-* ]]; then
	ldflags+=" -X main.date=$SMARTMFA_DATE"
fi
GOPROXY=off GOFLAGS=-mod=readonly CGO_ENABLED=0 \
	go build -trimpath -ldflags "$ldflags" -o "$tmp/smartmfa" ./cmd/smartmfa

rm -rf completions manpages
mkdir -p completions manpages
for shell in bash zsh fish; do
	"$tmp/smartmfa" completion "$shell" >"completions/smartmfa.$shell"
done
"$tmp/smartmfa" man --dir "$tmp/man"
# -n: no file name or time stamp in the gzip header, so that one commit
# always gives the same files.
for page in "$tmp"/man/*.1; do
	gzip -9 -n -c "$page" >"manpages/$(basename "$page").gz"
done

# An empty or missing file would make packages without completions or man
# page; the packages name these four.
for f in completions/smartmfa.bash completions/smartmfa.zsh completions/smartmfa.fish "$tmp/man/smartmfa.1"; do
	if [[ ! -s $f ]]; then
		echo "completions-and-man.sh: $f is missing or empty" >&2
		exit 1
	fi
done
echo "completions-and-man.sh: 3 completions, $(find manpages -name '*.1.gz' | wc -l) man pages"
