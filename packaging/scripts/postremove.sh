#!/bin/sh
# smartmfa's postrm (deb: "remove", "purge", "upgrade", ...) and %postun
# (rpm: 0 on removal, 1 on upgrade).
#
# Neither remove nor purge deletes /var/lib/smartmfa or the smartmfa user:
# the directory holds every user's MFA secrets, the key that decrypts them,
# the password hashes, the audit trail and the SSH host key, and nothing can
# bring them back. Delete them by hand when you mean it:
#   userdel smartmfa; rm -rf /var/lib/smartmfa
set -e

if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
fi
exit 0
