#!/bin/sh
# smartmfa's prerm (deb: "remove", "upgrade", ...) and %preun (rpm: 0 on
# removal, 1 on upgrade). Removal stops the service; an upgrade leaves it
# running for postinstall to restart.
set -e

case "$1" in
remove | 0)
	if [ -d /run/systemd/system ]; then
		systemctl stop smartmfa.service || true
	fi
	;;
esac
exit 0
