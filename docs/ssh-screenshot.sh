#!/usr/bin/env bash
# docs/ssh-screenshot.sh draws docs/img/ssh-enrol.svg, README.md's picture of
# what a new user sees at the SSH login with pam-enrol: it builds smartmfa,
# starts a copy of this machine's sshd on 127.0.0.1 under a PAM service of its
# own with the README's lines, adds a Unix user for the picture, and has the
# real OpenSSH client log in with a key in an 80x24 tmux window, whose screen
# is captured as text and drawn with docs/txt2svg.go. Everything it adds is
# removed at the end.
#
#   sudo bash docs/ssh-screenshot.sh
#
# It needs root, go, tmux, openssh-server and openssh-client.
set -euo pipefail

cd "$(dirname "$0")/.."
user=dana
[[ $(id -u) == 0 ]] || { echo "ssh-screenshot.sh: run it as root (it starts sshd and adds a user)" >&2; exit 1; }
for tool in go tmux ssh ssh-keygen useradd /usr/sbin/sshd; do
	command -v "$tool" >/dev/null || { echo "ssh-screenshot.sh: $tool is needed" >&2; exit 1; }
done
if id "$user" >/dev/null 2>&1; then
	echo "ssh-screenshot.sh: a user $user exists already; the picture needs its own" >&2
	exit 1
fi

work=$(mktemp -d /tmp/smartmfa-ssh-docs.XXXXXX)
chmod 755 "$work"
name=smartmfa-docs-sshd-$$
server=smartmfa-docs-$$
pid=
cleanup() {
	tmux -L "$server" kill-server 2>/dev/null || true
	[[ -n $pid ]] && kill "$pid" 2>/dev/null || true
	rm -f "/etc/pam.d/$name"
	userdel "$user" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "building smartmfa and txt2svg in $work"
go build -o "$work/smartmfa" ./cmd/smartmfa
go build -o "$work/txt2svg" docs/txt2svg.go
mkdir -p "$work/state" "$work/home"
smartmfa() { env -i HOME="$work" USER=docs "$work/smartmfa" --db "$work/state/smartmfa.db" "$@"; }
echo 'correct horse battery' | smartmfa account create Acme --admin alice --password-stdin >/dev/null
echo 'user-password-1' | smartmfa user add Acme "$user" --password-stdin >/dev/null
smartmfa account require-mfa Acme on >/dev/null

useradd -M -d "$work/home" -s /bin/sh -p '*' "$user"
ssh-keygen -q -t ed25519 -N '' -f "$work/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$work/user_key"
cp "$work/user_key.pub" "$work/authorized_keys"
cp /usr/sbin/sshd "$work/$name"
mkdir -p /run/sshd

# The README's lines, in place of "@include common-auth".
bin="$work/smartmfa --db $work/state/smartmfa.db"
cat >"/etc/pam.d/$name" <<PAM
auth optional  pam_exec.so stdout quiet $bin pam-enrol
auth optional  pam_echo.so smartmfa: enter the 6-digit code from your authenticator app
auth optional  pam_exec.so stdout quiet $bin pam-verify --notice
auth required  pam_exec.so stdout quiet expose_authtok $bin pam-verify
auth optional  pam_permit.so
account required pam_permit.so
session required pam_permit.so
PAM

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $work/host_key
PidFile $work/sshd.pid
AuthorizedKeysFile $work/authorized_keys
StrictModes no
UsePAM yes
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication yes
AuthenticationMethods publickey,keyboard-interactive:pam
CONF
"$work/$name" -D -f "$work/sshd_config" -E "$work/sshd.log" &
pid=$!

# The client, as the user has it set up: "ssh jumphost".
echo "jumphost $(cut -d' ' -f1,2 "$work/host_key.pub")" >"$work/known_hosts"
cat >"$work/ssh_config" <<CONF
Host jumphost
	HostName 127.0.0.1
	HostKeyAlias jumphost
	Port $port
	User $user
	IdentityFile $work/user_key
	UserKnownHostsFile $work/known_hosts
CONF
chmod 644 "$work/ssh_config"
for _ in $(seq 50); do
	if ssh-keyscan -p "$port" 127.0.0.1 >/dev/null 2>&1; then break; fi
	sleep 0.1
done

t() { tmux -L "$server" -f /dev/null "$@"; }
t new-session -d -s docs -x 80 -y 24 "env -i HOME=$work TERM=screen LANG=C.UTF-8 PATH=/usr/bin:/bin bash --norc --noprofile"
t send-keys -t docs "PS1='\$ '; ssh() { command ssh -F $work/ssh_config \"\$@\"; }; clear" Enter
sleep 0.3
t send-keys -t docs "ssh jumphost" Enter
deadline=$((SECONDS + 10))
until t capture-pane -p -t docs | grep -q '^Password:'; do
	if ((SECONDS > deadline)); then
		echo "ssh-screenshot.sh: no code prompt after 10 s:" >&2
		t capture-pane -p -t docs >&2
		cat "$work/sshd.log" >&2
		exit 1
	fi
	sleep 0.05
done
t capture-pane -p -t docs >"$work/ssh-enrol.txt"
cat "$work/ssh-enrol.txt"
mkdir -p docs/img
"$work/txt2svg" "$work/ssh-enrol.txt" docs/img/ssh-enrol.svg
echo "docs/img/ssh-enrol.svg"
