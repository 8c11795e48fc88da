# /etc/cron.d/greylist: delete expired greylist entries once an hour and
# take a checkpoint every five minutes (users' listings read greylist.db),
# on machines without systemd (with it, the greylist-purge and
# greylist-checkpoint timers do it). The
# counts purge prints go to syslog too; errors reach cron, which mails them.

SHELL=/bin/sh
PATH=/usr/sbin:/usr/bin:/sbin:/bin

17 * * * *  root  [ -d /run/systemd/system ] || /usr/bin/greylist purge >/dev/null
*/5 * * * *  root  [ -d /run/systemd/system ] || /usr/bin/greylist checkpoint
