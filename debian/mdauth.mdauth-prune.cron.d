# /etc/cron.d/mdauth-prune -- nightly prune of dead mdauth sessions and
# of auth events older than 90 days, for hosts that do not run systemd
# (with systemd, enable mdauth-prune.timer instead).
#
# Off until the database exists: uncomment the job once it does
# (/usr/share/doc/mdauth/README.Debian).  It runs as the database owner,
# postgres, over the local socket (peer authentication); adjust -D if the
# database is elsewhere.
SHELL=/bin/sh
PATH=/usr/sbin:/usr/bin:/sbin:/bin
#17 3 * * * postgres test -x /usr/sbin/mdauthctl && [ ! -d /run/systemd/system ] && mdauthctl -D "dbname=mdauth" prune >/dev/null
