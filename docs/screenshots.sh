#!/usr/bin/env bash
# docs/screenshots.sh renders the pictures of README.md's tour, docs/img/*.svg,
# from the real console: it builds smartmfa, drives it in a private tmux server
# at 80x24 without colours (NO_COLOR=1) on a fresh database, captures each
# screen as text and draws it with docs/txt2svg.go.
#
#   bash docs/screenshots.sh
#
# It needs go, tmux and oathtool (apt-get install tmux oathtool).
set -euo pipefail

cd "$(dirname "$0")/.."
for tool in go tmux oathtool; do
	command -v "$tool" >/dev/null || { echo "screenshots.sh: $tool is needed" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/smartmfa-docs.XXXXXX")
server=smartmfa-docs-$$
cleanup() {
	local socket
	socket=$(tmux -L "$server" display-message -p '#{socket_path}' 2>/dev/null || true)
	tmux -L "$server" kill-server 2>/dev/null || true
	case $socket in */"$server") rm -f "$socket" ;; esac # tmux leaves its socket behind
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "building smartmfa and txt2svg in $work"
go build -o "$work/smartmfa" ./cmd/smartmfa
go build -o "$work/txt2svg" docs/txt2svg.go
db=$work/smartmfa.db
password='correct horse battery'
user_password='user-password-1'

t() { tmux -L "$server" -f /dev/null "$@"; }

# smartmfa runs a command on the database as the operator "docs".
smartmfa() { env -i HOME="$work" USER=docs "$work/smartmfa" --db "$db" "$@"; }

# console starts the console in a new 80x24 session named $1.
console() {
	t new-session -d -s "$1" -x 80 -y 24 \
		"env -i HOME=$work USER=docs TERM=screen NO_COLOR=1 $work/smartmfa --db $db"
}

screen() { t capture-pane -p -t "$1"; }

# wait_for TARGET TEXT... polls the screen until it shows every TEXT.
wait_for() {
	local target=$1 deadline=$((SECONDS + 10)) s w missing
	shift
	while :; do
		s=$(screen "$target")
		missing=
		for w in "$@"; do
			if [[ $s != *"$w"* ]]; then missing=$w; break; fi
		done
		[[ -z $missing ]] && return 0
		if ((SECONDS > deadline)); then
			printf 'screenshots.sh: %s does not show %q after 10 s:\n%s\n' "$target" "$missing" "$s" >&2
			exit 1
		fi
		sleep 0.02
	done
}

# wait_gone TARGET TEXT polls the screen until it no longer shows TEXT.
wait_gone() {
	local deadline=$((SECONDS + 10)) s
	while s=$(screen "$1"); [[ $s == *"$2"* ]]; do
		if ((SECONDS > deadline)); then
			printf 'screenshots.sh: %s still shows %q after 10 s:\n%s\n' "$1" "$2" "$s" >&2
			exit 1
		fi
		sleep 0.02
	done
}

# keys TARGET KEY... sends named keys; Escape gets time alone, so that the
# next key is not read as alt+key.
keys() {
	local target=$1 k
	shift
	for k in "$@"; do
		t send-keys -t "$target" "$k"
		if [[ $k == Escape ]]; then sleep 0.15; fi
	done
}

type_text() { t send-keys -t "$1" -l "$2"; }

# setup_key reads the setup key off the set-up screen.
setup_key() {
	wait_for "$1" "Setup key" "> Code"
	screen "$1" | grep -oE '[A-Z2-7]{4}( [A-Z2-7]{4}){7}' | head -n 1
}

# wrong_code is a code no step near now accepts, for the key $1.
wrong_code() {
	local near c
	near=$(for at in "now - 30 seconds" now "now + 30 seconds" "now + 60 seconds"; do oathtool --totp -b -N "$at" "$1"; done)
	for c in 000000 111111 222222 333333 444444; do
		if [[ $near != *$c* ]]; then echo "$c"; return; fi
	done
	echo "screenshots.sh: no wrong code found" >&2
	exit 1
}

# shot TARGET NAME waits until the screen is still, then renders it as
# docs/img/NAME.svg.
shot() {
	local prev cur
	prev=$(screen "$1")
	while sleep 0.05; cur=$(screen "$1"); [[ $cur != "$prev" ]]; do prev=$cur; done
	printf '%s\n' "$cur" >"$work/$2.txt"
	"$work/txt2svg" "$work/$2.txt" "docs/img/$2.svg"
	echo "docs/img/$2.svg"
}

mkdir -p docs/img

# First run: the login screen offers Register; register Acme.
console admin
wait_for admin "No account yet?" "[ Register ]"
shot admin login
keys admin Tab Tab Tab Enter
wait_for admin "Register an account"
type_text admin Acme
keys admin Tab
type_text admin alice.kowalczyk1
keys admin Tab
type_text admin "$password"
keys admin Tab
type_text admin "$password"
wait_for admin "Repeat password $(printf '*%.0s' $(seq ${#password}))"
shot admin register
keys admin Enter
wait_for admin "Account registered" "alice.kowalczyk1 (admin)" "is not set up"

# Add MFA: the QR code and the setup key, then the recovery codes.
keys admin Enter
key=$(setup_key admin)
shot admin mfa-setup
type_text admin "$(oathtool --totp -b "$key")"
keys admin Enter
wait_for admin "Multi-factor authentication has been set up" "Recovery codes" "[>Done<]"
shot admin recovery-codes
keys admin Enter
wait_for admin "On since" "10 left"
shot admin mymfa

# Users for the account, as the command line adds them.
while IFS=: read -r username name flags; do
	# shellcheck disable=SC2086 # flags is a list
	printf '%s\n' "$user_password" | smartmfa user add Acme "$username" --name "$name" \
		--email "$username@acme.example" --password-stdin $flags >/dev/null
done <<'EOF'
anna.kowalska:Anna Kowalska:
bob.nowak:Bob Nowak:
carlos.garcia:Carlos Garcia:
dina.haddad:Dina Haddad:
ewa.kowalczyk:Ewa Kowalczyk:
farah.khan:Farah Khan:
goran.horvat:Goran Horvat:--admin
hana.sato:Hana Sato:
jan.kowal:Jan Kowal:
keira.murphy:Keira Murphy:
lars.berg:Lars Berg:
marta.kowalik:Marta Kowalik:
nils.lund:Nils Lund:
omar.ali:Omar Ali:
piotr.kowalewski:Piotr Kowalewski:
priya.kumar:Priya Kumar:
tomasz.kowalski:Tomasz Kowalski:
EOF
smartmfa user disable jan.kowal >/dev/null

# Account: require MFA (the page counts who has none), and save.
keys admin Escape Right Enter
wait_for admin "Account details" "[ ] Require multi-factor authentication"
keys admin Space
wait_for admin "[x] Require multi-factor authentication" "have no multi-factor authentication yet"
shot admin account
keys admin Tab Enter
wait_for admin "Saved: MFA is required now"

# A user without MFA replaces the temporary password the command line set,
# is sent to set-up, gets a code wrong once, and sets it up.
console user
wait_for user "Log in" "Username"
type_text user tomasz.kowalski
keys user Tab
type_text user "$user_password"
keys user Enter
wait_for user "Choose a new password"
type_text user "$user_password-own"
keys user Tab
type_text user "$user_password-own"
keys user Enter
wait_for user "requires multi-factor authentication" "[MFA setup]"
key=$(setup_key user)
type_text user "$(wrong_code "$key")"
keys user Enter
wait_for user "That code is not valid"
type_text user "$(oathtool --totp -b "$key")"
keys user Enter
wait_for user "Recovery codes" "[>Done<]"
keys user Enter
wait_for user "[My MFA]" "10 left"
keys user C-c

# Users: search as you type, then the user's page.
keys admin Escape Right Enter
wait_for admin "> Search" "Username" "bob.nowak"
type_text admin kowal
wait_for admin "> Search kowal" "tomasz.kowalski"
wait_gone admin "bob.nowak"
for _ in $(seq 10); do
	if [[ $(screen admin) == *"> tomasz.kowalski"* ]]; then break; fi
	keys admin Down
	sleep 0.05
done
wait_for admin "> tomasz.kowalski"
shot admin users
keys admin Enter
wait_for admin "User tomasz.kowalski" "Multi-Factor Authentication" "Status       On" "[ Remove MFA ]"
shot admin user

# Audit.
keys admin Escape
wait_for admin "> Search kowal"
keys admin Escape Right Enter
wait_for admin "Audit trail" "Event 1 of"
shot admin audit
keys admin C-c
