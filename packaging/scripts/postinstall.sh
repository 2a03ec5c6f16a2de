#!/bin/sh
# smartmfa's postinst (deb, "configure") and %post (rpm, 1 or 2). It creates
# the smartmfa user and /var/lib/smartmfa and tells systemd of the unit. It
# never enables or starts the service: the first account must be created
# before anyone can reach the login screen (see the README).
set -e

if ! getent passwd smartmfa >/dev/null; then
	if command -v systemd-sysusers >/dev/null 2>&1 && [ -f /usr/lib/sysusers.d/smartmfa.conf ]; then
		systemd-sysusers /usr/lib/sysusers.d/smartmfa.conf
	else
		getent group smartmfa >/dev/null || groupadd --system smartmfa
		useradd --system --gid smartmfa --home-dir /var/lib/smartmfa --no-create-home \
			--shell /usr/sbin/nologin --comment "smartmfa MFA console" smartmfa
	fi
fi

# The database, the key file and the SSH host key live here, the service
# user's alone. An existing directory is left as the operator made it
# (smartmfa.service's StateDirectoryMode=0700 fixes its mode at each start).
if [ ! -e /var/lib/smartmfa ]; then
	install -d -o smartmfa -g smartmfa -m 0700 /var/lib/smartmfa
fi

if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
	# An upgrade (deb: configure with the old version; rpm: 2) restarts a
	# running service on the new binary; a stopped one stays stopped.
	if [ "$1" = 2 ] || { [ "$1" = configure ] && [ -n "${2:-}" ]; }; then
		systemctl try-restart smartmfa.service || true
	fi
fi
exit 0
