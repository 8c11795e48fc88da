#!/usr/bin/env bats
# The setgid privilege model (greylist(8), INSTALLATION AND PRIVILEGES) tried with real users:
# a setgid copy of t/greylist-priv (built with its configuration at
# t/priv/greylist.conf) run as unprivileged test users. Needs root.

load test_helper

# The directory the test binary was built to read its configuration from.
PRIVDIR=${GREYLIST_BUILDDIR:-$BATS_TEST_DIRNAME/..}/t/priv
PRIVBIN=$PRIVDIR/bin/greylist
USERS="gltu1 gltu2 gltmta gltadmin gltcase gltCase"

setup_file() {
	[ "$(id -u)" = 0 ] || return 0
	local b=${GREYLIST_BUILDDIR:-$BATS_TEST_DIRNAME/..}
	accounts_gone "$USERS" "gltgrp gltadm"
	groupadd gltgrp && groupadd gltadm
	mkdir -p "$PRIVDIR/bin" "$PRIVDIR/home"
	chmod 755 "$PRIVDIR" "$PRIVDIR/bin" "$PRIVDIR/home"
	cp "$b/t/greylist-priv" "$PRIVBIN"
	chgrp gltgrp "$PRIVBIN" && chmod 2755 "$PRIVBIN"
	local u
	for u in $USERS; do
		useradd --badname -m -d "$PRIVDIR/home/$u" -s /bin/sh "$u"
	done
	usermod -a -G gltadm gltadmin
	printf '%s\n' "database $PRIVDIR/db" 'local_domains example.org' \
		'mta_users gltmta' 'admin_group gltadm' >"$PRIVDIR/greylist.conf"
	chmod 644 "$PRIVDIR/greylist.conf"
}

teardown_file() {
	[ "$(id -u)" = 0 ] || return 0
	accounts_gone "$USERS" "gltgrp gltadm"
	rm -rf "$PRIVDIR"
}

setup() {
	[ "$(id -u)" = 0 ] || skip "needs root to create users and a setgid binary"
	setpriv --reuid=gltu1 --regid=gltu1 --init-groups test -x "$PRIVBIN" ||
		skip "the build tree is not reachable by other users"
	rm -rf "$PRIVDIR/db"
	local u
	for u in $USERS; do
		rm -f "$(home "$u")/.wl" "$(home "$u")/ids"
	done
	mkdir "$PRIVDIR/db"
	chgrp gltgrp "$PRIVDIR/db" && chmod 2770 "$PRIVDIR/db"
	unset GREYLIST_NOW
}

# mta ARGS...: a check run by the configured MTA user.
mta() {
	as gltmta "$PRIVBIN" check "$@"
}

home() {
	echo "$PRIVDIR/home/$1"
}

@test "the test binary runs setgid for an unprivileged user" {
	run -0 as gltu1 "$PRIVBIN"
	assert_line --partial 'greylisting is on for gltu1'
}

@test "a user sees only their own triplets" {
	run -1 mta --ip=192.0.2.1 --sender=alice@sender.org --rcpt=gltu1@example.org
	run -1 mta --ip=198.51.100.1 --sender=bob@other.org --rcpt=gltu2@example.org
	run -0 "$PRIVBIN" checkpoint
	run -0 as gltu1 "$PRIVBIN"
	assert_output --partial 'alice@sender.org'
	assert_output --partial '192.0.2.0/24'
	refute_output --partial 'bob@other.org'
	run -0 as gltu2 "$PRIVBIN"
	assert_output --partial 'bob@other.org'
	refute_output --partial 'alice@sender.org'
}

@test "greylist -t turns greylisting off and on, and check honours it" {
	run -0 as gltu1 "$PRIVBIN" -t
	assert_output 'greylisting is now off for gltu1'
	run -0 mta --ip=192.0.2.1 --sender=alice@sender.org --rcpt=gltu1@example.org
	assert_output 'X-Greylist: opted out'
	run -1 mta --ip=192.0.2.1 --sender=alice@sender.org --rcpt=gltu2@example.org
	run -0 as gltu1 "$PRIVBIN" -t
	assert_output 'greylisting is now on for gltu1'
	run -1 mta --ip=192.0.2.1 --sender=alice@sender.org --rcpt=gltu1+lists@example.org
}

@test "greylist -tw from stdin stores a sanitised list that check honours" {
	run --separate-stderr -0 as gltu1 sh -c "printf '%s\n' 'Friend@Pals.ORG' \
		'<boss@work.org>;' '# mine' 'not an address' '@lists.example.net' |
		$PRIVBIN -tw"
	assert_output 'personal whitelist of gltu1: 3 entries in force'
	assert_regex "$stderr" "line 3 dropped: '# mine'"
	assert_regex "$stderr" "line 4 dropped"
	assert_equal "$(cat "$(home gltu1)/.wl")" "$(printf '%s\n' friend@pals.org \
		boss@work.org @lists.example.net)"
	assert_equal "$(stat -c %U "$(home gltu1)/.wl")" gltu1
	run -0 mta --ip=203.0.113.9 --sender=friend@pals.org --rcpt=gltu1@example.org
	assert_output 'X-Greylist: personal whitelist'
	run -0 mta --ip=203.0.113.9 --sender=anyone@lists.example.net --rcpt=gltu1@example.org
	assert_output 'X-Greylist: personal whitelist'
	run -1 mta --ip=203.0.113.9 --sender=friend@pals.org --rcpt=gltu2@example.org
}

@test "greylist -tw says the whitelist has no effect while greylisting is off" {
	run -0 as gltu1 "$PRIVBIN" -t
	run -0 as gltu1 sh -c "echo friend@pals.org | $PRIVBIN -tw"
	assert_line 'personal whitelist of gltu1: 1 entry in force'
	assert_line --partial 'no effect until you turn it on'
}

@test "a symlinked ~/.wl pointing at a file only the group can read is refused" {
	echo 'leak@secret.org' >"$PRIVDIR/secret"
	chgrp gltgrp "$PRIVDIR/secret" && chmod 640 "$PRIVDIR/secret"
	as gltu1 ln -s "$PRIVDIR/secret" "$(home gltu1)/.wl"
	run --separate-stderr -2 as gltu1 "$PRIVBIN" -tw </dev/null
	assert_regex "$stderr" 'not a regular file'
	refute_output --partial 'leak@secret.org'
	[[ "$stderr" != *leak@secret.org* ]]
	run -0 as gltu1 "$PRIVBIN"
	assert_output --partial 'personal whitelist: 0 entries'
	run -1 mta --ip=203.0.113.9 --sender=leak@secret.org --rcpt=gltu1@example.org
	assert_equal "$(cat "$PRIVDIR/secret")" 'leak@secret.org'
}

@test "the editor of greylist -tw runs with the user's own groups only" {
	cat >"$PRIVDIR/editor" <<-'EOS'
	#!/bin/sh
	id -G >"$(dirname "$1")/ids"
	id -g >>"$(dirname "$1")/ids"
	echo friend@pals.org >"$1"
	EOS
	chmod 755 "$PRIVDIR/editor"
	run -0 as gltu1 EDITOR="$PRIVDIR/editor" script -qec "$PRIVBIN -tw" /dev/null
	assert_output --partial 'personal whitelist of gltu1: 1 entry in force'
	local grp
	grp=$(getent group gltgrp | cut -d: -f3)
	run cat "$(home gltu1)/ids"
	assert_equal "${lines[1]}" "$(id -g gltu1)"
	for g in ${lines[0]}; do
		assert [ "$g" != "$grp" ]
	done
	run -0 mta --ip=203.0.113.9 --sender=friend@pals.org --rcpt=gltu1@example.org
	assert_output 'X-Greylist: personal whitelist'
}

@test "-c, -d and GREYLIST_NOW from an unprivileged caller are refused" {
	echo "database $(home gltu1)/mydb" >"$(home gltu1)/my.conf"
	run --separate-stderr -2 as gltu1 "$PRIVBIN" -c "$(home gltu1)/my.conf"
	assert_regex "$stderr" 'for root only'
	run --separate-stderr -2 as gltu1 "$PRIVBIN" -d "$(home gltu1)/mydb" -t
	assert_regex "$stderr" 'for root only'
	run --separate-stderr -2 as gltmta env GREYLIST_NOW=1 "$PRIVBIN" check \
		--ip=192.0.2.1 --sender=a@b.org --rcpt=gltu1@example.org
	assert_regex "$stderr" 'GREYLIST_'
	assert [ ! -e "$(home gltu1)/mydb" ]
}

@test "an unprivileged user cannot run admin or MTA commands" {
	local c
	for c in list stats purge export 'exempt list' 'exempt add 10.0.0.0/8' \
		'delete --state=pending' 'pass --ip=10.0.0.1 --sender=a@b.org --rcpt=gltu1@example.org' \
		'spam --ip=10.0.0.1 --sender=a@b.org' batch \
		'check --ip=10.0.0.1 --sender=a@b.org --rcpt=gltu1@example.org'; do
		run --separate-stderr -2 as gltu1 "$PRIVBIN" $c </dev/null
		assert_regex "$stderr" 'permission denied'
	done
	run -0 as gltu1 sh -c "$PRIVBIN import </dev/null; echo \$?"
	assert_output --partial 'permission denied'
	assert_line 2
	run as gltadmin "$PRIVBIN" list
	assert [ "$status" -eq 0 -o "$status" -eq 1 ]
	run -0 as gltadmin "$PRIVBIN" exempt add 10.0.0.0/8
}

@test "an unprivileged user cannot read or write the database directly" {
	run -1 mta --ip=192.0.2.1 --sender=alice@sender.org --rcpt=gltu1@example.org
	run ! as gltu1 ls "$PRIVDIR/db"
	run ! as gltu1 touch "$PRIVDIR/db/greylist.db"
	run ! as gltu1 cat "$PRIVDIR/db/greylist.db"
	run ! as gltu1 sh -c "echo x >>'$PRIVDIR/db/lock'"
	assert_equal "$(stat -c %a "$PRIVDIR/db/greylist.db")" 660
	assert_equal "$(stat -c %G "$PRIVDIR/db/greylist.db")" gltgrp
}

@test "make install installs greylist setgid and the database directory 2770" {
	local d=$BATS_TEST_TMPDIR/inst
	run -0 make -s -C "${GREYLIST_BUILDDIR:-$BATS_TEST_DIRNAME/..}" install \
		DESTDIR="$d" GREYLIST_GROUP=gltgrp
	local bin
	bin=$(find "$d" -type f -name greylist -path '*/bin/*')
	assert_equal "$(stat -c %a:%G "$bin")" 2755:gltgrp
	local db
	db=$(find "$d" -type d -path '*/lib/greylist')
	assert_equal "$(stat -c %a:%G "$db")" 2770:gltgrp
}

# ---- a user can make no check wait or fail open (B1, B2) ----

# checks_beside SECONDS: MTA checks one after another for SECONDS (at most
# 4000 of them) while the caller's attack runs; prints how many answered
# 0, 1 and 2, and fails if any failed open (2) or none ran.
checks_beside() {
	local end=$((SECONDS + $1)) i=0 rc n0=0 n1=0 n2=0
	while [ "$SECONDS" -lt "$end" ] && [ "$i" -lt 4000 ]; do
		rc=0
		mta --ip=10.9.$((i % 250)).1 --sender="s$i@example.net" \
		    --rcpt=gltu2@example.org >/dev/null 2>&1 || rc=$?
		case $rc in 0) n0=$((n0 + 1)) ;; 1) n1=$((n1 + 1)) ;; *) n2=$((n2 + 1)) ;; esac
		i=$((i + 1))
	done
	echo "checks: $n0 passed, $n1 deferred, $n2 failed open" >&3
	[ "$n2" -eq 0 ] && [ $((n0 + n1)) -gt 0 ]
}

# big_wl USER: a ~/.wl of nearly 64 KiB, distinct @domain lines.
big_wl() {
	local i
	for ((i = 0; i < 5900; i++)); do echo "@a$i.org"; done >"$(home "$1")/big.wl"
	chown "$1" "$(home "$1")/big.wl"
}

# user_locks: the locks in /proc/locks held by processes of gltu1.
user_locks() {
	local pid
	for pid in $(awk '{ print $5 }' /proc/locks | cut -d: -f1 | sort -u); do
		[ "$(stat -c %U "/proc/$pid" 2>/dev/null)" = gltu1 ] && echo "$pid"
	done
	return 0
}

# stopped_user_commands: starts user commands of gltu1 in sessions of
# their own and stops each at a random point (after 0 to 3000 turns of a
# busy loop); prints their process group ids.
stopped_user_commands() {
	local p n j c
	for c in "-tw <big.wl" "-t" "" "-tw <big.wl" "-t" \
	    "(trap '' ALRM; ulimit -n 5; exec $PRIVBIN -t)" \
	    "(python3 -c 'import os, signal; signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM}); os.execv(\"$PRIVBIN\", [\"greylist\", \"-t\"])')"; do
		[[ $c == "("* ]] || c="$PRIVBIN $c"
		setsid setpriv --reuid=gltu1 --regid=gltu1 --init-groups -- \
		    env -i PATH=/usr/bin:/bin HOME="$(home gltu1)" \
		    sh -c "cd; $c" >/dev/null 2>&1 &
		p=$!
		n=$((RANDOM % 3000))
		for ((j = 0; j < n; j++)); do :; done
		kill -STOP -- "-$p" 2>/dev/null
		echo "$p"
	done
}

@test "B1: user commands stopped at any point, with or without a recovery mark, hold nothing checks wait for" {
	big_wl gltu1
	run -1 mta --ip=192.0.2.1 --sender=a@b.org --rcpt=gltu2@example.org
	local groups g
	groups=$(stopped_user_commands)
	as gltu1 sh -c "ulimit -v 20000; $PRIVBIN" >/dev/null 2>&1 || true
	assert_equal "$(user_locks)" ''
	assert [ ! -e "$PRIVDIR/db/recover" ]
	checks_beside 10
	touch "$PRIVDIR/db/recover" && chgrp gltgrp "$PRIVDIR/db/recover"
	groups="$groups $(stopped_user_commands)"
	checks_beside 10
	assert [ ! -e "$PRIVDIR/db/recover" ]
	for g in $groups; do kill -KILL -- "-$g" 2>/dev/null || true; done
	wait
}

@test "B1: a user command's signals are reset whatever it inherited" {
	mkfifo "$(home gltu1)/in" && chown gltu1 "$(home gltu1)/in"
	as gltu1 python3 -c 'import os, signal
open("'"$(home gltu1)"'/pid", "w").write(str(os.getpid()))
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM, signal.SIGTERM})
signal.signal(signal.SIGALRM, signal.SIG_IGN)
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
fd = os.open(os.path.expanduser("'"$(home gltu1)"'/in"), os.O_RDONLY)
os.dup2(fd, 0)
os.execv("'"$PRIVBIN"'", ["greylist", "-tw"])' &
	local job=$! p i
	exec 4>"$(home gltu1)/in"
	for ((i = 0; i < 100; i++)); do
		p=$(cat "$(home gltu1)/pid" 2>/dev/null) &&
		    [ "$(readlink "/proc/$p/exe")" = "$PRIVBIN" ] &&
		    grep -q '^State:.*S' "/proc/$p/status" && break
		sleep 0.05
	done
	run -0 grep '^Sig' "/proc/$p/status"
	assert_line 'SigBlk:	0000000000000000'
	# SIGALRM is bit 14 (0x2000), SIGXFSZ bit 25.
	local ign
	ign=$(awk '/^SigIgn/ { print $2 }' "/proc/$p/status")
	assert_equal $((0x$ign & 0x2000)) 0
	assert_equal $((0x$ign & 0x2000000)) 0
	echo friend@pals.org >&4
	exec 4>&-
	wait "$job"
	run -0 mta --ip=203.0.113.9 --sender=friend@pals.org --rcpt=gltu1@example.org
}

@test "B2: a loop of user commands dying of SIGXFSZ makes no check fail open" {
	as gltu1 sh -c "end=\$((\$(date +%s) + 11)); i=0
		while [ \$(date +%s) -lt \$end ] && [ \$i -lt 3000 ]; do
			(ulimit -f 0; $PRIVBIN -t) >/dev/null 2>&1; i=\$((i + 1))
		done" &
	local loop=$!
	checks_beside 10
	wait "$loop"
	run -0 ls -A "$PRIVDIR/db/users"
	assert [ "${#lines[@]}" -le 1 ]
	run -0 as gltu1 "$PRIVBIN" -t
	run -0 ls -A "$PRIVDIR/db/users"
	assert_output gltu1
}

@test "B2: user commands SIGKILLed at random points in a loop make no check fail open" {
	big_wl gltu1
	(
		end=$((SECONDS + 11)) i=0
		while [ "$SECONDS" -lt "$end" ] && [ "$i" -lt 3000 ]; do
			setsid setpriv --reuid=gltu1 --regid=gltu1 --init-groups -- \
			    env -i PATH=/usr/bin:/bin HOME="$(home gltu1)" sh -c \
			    "cd; exec $PRIVBIN $( ((i % 2)) && echo -t || echo '-tw')" \
			    <"$(home gltu1)/big.wl" >/dev/null 2>&1 &
			p=$! n=$((RANDOM % 3000))
			for ((j = 0; j < n; j++)); do :; done
			kill -KILL -- "-$p" 2>/dev/null
			wait "$p" 2>/dev/null
			i=$((i + 1))
		done
	) &
	local loop=$!
	checks_beside 10
	wait "$loop" || true
	run -0 as gltu1 "$PRIVBIN" -t
	run -0 ls -A "$PRIVDIR/db/users"
	assert_output gltu1
	run -0 grep -c '^greylist-user 1$' "$PRIVDIR/db/users/gltu1"
}

# ---- logins that differ only in case (B3) ----

@test "B3: a login with upper-case letters can neither change nor see its lower-case twin's settings" {
	run -0 as gltcase "$PRIVBIN" -t
	assert_output 'greylisting is now off for gltcase'
	run --separate-stderr -2 as gltCase "$PRIVBIN" -t
	assert_regex "$stderr" "login 'gltCase' has upper-case letters"
	run --separate-stderr -2 as gltCase sh -c "echo a@b.org | $PRIVBIN -tw"
	assert_regex "$stderr" 'upper-case'
	run -0 mta --ip=192.0.2.1 --sender=alice@sender.org --rcpt=gltcase@example.org
	assert_output 'X-Greylist: opted out'
	run -0 as gltcase "$PRIVBIN" -t
	run -1 mta --ip=192.0.2.1 --sender=alice@sender.org --rcpt=gltCase@example.org
	run -0 "$PRIVBIN" checkpoint
	run -0 as gltcase "$PRIVBIN"
	assert_output --partial 'alice@sender.org'
	run -0 as gltCase "$PRIVBIN"
	assert_line --index 0 'greylisting is on for gltCase; personal whitelist: 0 entries'
	assert_output --partial 'no mail matches gltCase'
	refute_output --partial 'alice@sender.org'
	assert [ ! -e "$PRIVDIR/db/users/gltCase" ]
}

# ---- the user commands' usability ----

@test "greylist -tw </dev/null leaves a non-empty list alone; --empty empties it" {
	run -0 as gltu1 sh -c "echo friend@pals.org | $PRIVBIN -tw"
	run --separate-stderr -2 as gltu1 "$PRIVBIN" -tw </dev/null
	assert_regex "$stderr" 'no entries on standard input.*--empty'
	assert_equal "$(cat "$(home gltu1)/.wl")" friend@pals.org
	run -0 mta --ip=203.0.113.9 --sender=friend@pals.org --rcpt=gltu1@example.org
	run -0 as gltu1 "$PRIVBIN" -tw --empty </dev/null
	assert_output 'personal whitelist of gltu1: 0 entries in force'
	run -1 mta --ip=203.0.113.9 --sender=friend@pals.org --rcpt=gltu1@example.org
}

@test "the editor gets the user's environment and a VISUAL with arguments and quotes" {
	cat >"$PRIVDIR/editor" <<-'EOS'
	#!/bin/sh
	f=$(eval echo \${$#})
	{ for a in "$@"; do echo "arg=$a"; done; env; } >"$(dirname "$f")/ids"
	echo friend@pals.org >"$f"
	EOS
	chmod 755 "$PRIVDIR/editor"
	run -0 as gltu1 HOME="$(home gltu1)" USER=gltu1 LOGNAME=gltu1 \
	    LANG=C.UTF-8 LC_TIME=C TERM=vt100 LD_LIBRARY_PATH=/nonexistent \
	    VISUAL="$PRIVDIR/editor -x 'two words'" EDITOR=ignored \
	    script -qec "$PRIVBIN -tw" /dev/null
	assert_output --partial 'personal whitelist of gltu1: 1 entry in force'
	run cat "$(home gltu1)/ids"
	assert_line 'arg=-x'
	assert_line 'arg=two words'
	assert_line "arg=$(home gltu1)/.wl"
	assert_line "HOME=$(home gltu1)"
	assert_line 'LANG=C.UTF-8'
	assert_line 'LC_TIME=C'
	assert_line 'USER=gltu1'
	assert_line 'LOGNAME=gltu1'
	assert_line 'TERM=vt100'
	refute_output --partial 'LD_LIBRARY_PATH'
}

@test "a background child of the editor does not keep greylist -tw waiting" {
	cat >"$PRIVDIR/editor" <<-EOS
	#!/bin/sh
	sleep 60 </dev/null >/dev/null 2>&1 &
	echo \$! >"$(home gltu1)/bg"
	echo friend@pals.org >"\$1"
	EOS
	chmod 755 "$PRIVDIR/editor"
	run -0 as gltu1 EDITOR="$PRIVDIR/editor" timeout 20 script -qec "$PRIVBIN -tw" /dev/null
	assert_output --partial '1 entry in force'
	kill "$(cat "$(home gltu1)/bg")"
}

@test "greylist -tw names what ~/.wl is when it refuses it" {
	local wl kind
	wl=$(home gltu1)/.wl
	for kind in fifo directory device symlink; do
		rm -rf "$wl"
		case $kind in
		fifo) mkfifo "$wl"; want='a FIFO' ;;
		directory) mkdir "$wl"; want='a directory' ;;
		device) mknod "$wl" c 1 3; want='a character device' ;;
		symlink) ln -s /etc/hostname "$wl"; want='a symlink' ;;
		esac
		run --separate-stderr -2 as gltu1 "$PRIVBIN" -tw </dev/null
		assert_regex "$stderr" "\\.wl: $want, not a regular file: refused"
	done
}

@test "the user records of an older database, migrated by root, stay readable by the MTA" {
	run -0 "$PRIVBIN" stats
	rm -r "$PRIVDIR/db/users"
	printf '%s\n' VERSION=3 format=print type=btree HEADER=END \
	    ' Ugltu1' ' \02U\00\01eS\f1d\00\00\00\00' DATA=END |
	    db5.3_load -h "$PRIVDIR/db" greylist.db
	run --separate-stderr -2 as gltu1 "$PRIVBIN" -t
	assert_regex "$stderr" 'not upgraded yet'
	run -0 "$PRIVBIN" purge
	assert_equal "$(stat -c %G:%a "$PRIVDIR/db/users" "$PRIVDIR/db/users/gltu1")" \
	    "$(printf '%s\n' gltgrp:2770 gltgrp:660)"
	run -0 mta --ip=192.0.2.1 --sender=alice@sender.org --rcpt=gltu1@example.org
	assert_output 'X-Greylist: opted out'
	run -0 as gltu1 "$PRIVBIN" -t
	assert_output 'greylisting is now on for gltu1'
}
