# /etc/cron.d/greylist: delete expired greylist entries once an hour, on
# machines without systemd (with it, greylist-purge.timer does it). The
# counts purge prints go to syslog too; errors reach cron, which mails them.

SHELL=/bin/sh
PATH=/usr/sbin:/usr/bin:/sbin:/bin

17 * * * *  root  [ -d /run/systemd/system ] || /usr/bin/greylist purge >/dev/null
