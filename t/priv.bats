#!/usr/bin/env bats
# The setgid privilege model (shared/DESIGN.md 6) tried with real users:
# a setgid copy of t/greylist-priv (built with its configuration at
# t/priv/greylist.conf) run as unprivileged test users. Needs root.

load test_helper

# The directory the test binary was built to read its configuration from.
PRIVDIR=${GREYLIST_BUILDDIR:-$BATS_TEST_DIRNAME/..}/t/priv
PRIVBIN=$PRIVDIR/bin/greylist
USERS="gltu1 gltu2 gltmta gltadmin"

setup_file() {
	[ "$(id -u)" = 0 ] || return 0
	local b=${GREYLIST_BUILDDIR:-$BATS_TEST_DIRNAME/..}
	userdel_all
	groupadd gltgrp && groupadd gltadm
	mkdir -p "$PRIVDIR/bin" "$PRIVDIR/home"
	chmod 755 "$PRIVDIR" "$PRIVDIR/bin" "$PRIVDIR/home"
	cp "$b/t/greylist-priv" "$PRIVBIN"
	chgrp gltgrp "$PRIVBIN" && chmod 2755 "$PRIVBIN"
	local u
	for u in $USERS; do
		useradd -m -d "$PRIVDIR/home/$u" -s /bin/sh "$u"
	done
	usermod -a -G gltadm gltadmin
	printf '%s\n' "database $PRIVDIR/db" 'local_domains example.org' \
		'mta_users gltmta' 'admin_group gltadm' >"$PRIVDIR/greylist.conf"
	chmod 644 "$PRIVDIR/greylist.conf"
}

userdel_all() {
	local u
	for u in $USERS; do
		id "$u" >/dev/null 2>&1 && userdel -r "$u" 2>/dev/null
	done
	getent group gltgrp >/dev/null && groupdel gltgrp
	getent group gltadm >/dev/null && groupdel gltadm
	return 0
}

teardown_file() {
	[ "$(id -u)" = 0 ] || return 0
	userdel_all
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

# as USER CMD...: CMD as USER with their own groups and a bare environment.
as() {
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$u" --init-groups -- \
		env -i PATH=/usr/bin:/bin "$@"
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
