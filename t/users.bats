#!/usr/bin/env bats
# User settings (greylist -t, -tw) and the user's listing, run by the
# invoking user without setgid: with Berkeley DB they live in files under
# DIR/users that the user commands write without joining the database
# environment; t/priv.bats tries the same with real users and setgid.

load test_helper

# -tw writes the invoking user's ~/.wl: it is tried in t/priv.bats, with
# test users' homes.
setup() {
	setup_db
	ME=$(id -un)
}

# fixture_users: the user records of a database made before DIR/users
# existed (carol opted out; dave on, whitelisting @friends.org and
# pal@mates.net), as db_dump -p prints them.
fixture_users() {
	printf '%s\n' VERSION=3 format=print type=btree HEADER=END \
	    ' Ldave\00@friends.org' ' \02L\00\00eS\f1\00' \
	    ' Ldave\00pal@mates.net' ' \02L\00\00eS\f1\00' \
	    ' Ucarol' ' \02U\00\01eS\f1d\00\00\00\00' \
	    ' Udave' ' \02U\00\00eS\f1\00\00\00\00\02' DATA=END
}

@test "-t keeps the opt-out in DIR/users/LOGIN, and check honours it" {
	bdb_only "the settings file"
	run -0 gl -t
	assert_output "greylisting is now off for $ME"
	run -0 cat "$DB/users/$ME"
	assert_line --index 0 'greylist-user 1'
	assert_line --index 1 --regexp '^greylisting off [0-9]+$'
	assert_equal "$(stat -c %a "$DB/users/$ME")" 660
	run -0 check_at "$T0" 192.0.2.1 a@example.org "$ME@example.org"
	assert_output 'X-Greylist: opted out'
	run -0 gl -t
	run -1 check_at "$T0" 192.0.2.1 a@example.org "$ME@example.org"
}

@test "-t turns greylisting off and on for the invoking user on either backend" {
	run -0 gl -t
	assert_output "greylisting is now off for $ME"
	run -0 check_at "$T0" 192.0.2.1 a@example.org "$ME@example.org"
	assert_output 'X-Greylist: opted out'
	run -0 gl
	assert_line --index 0 "greylisting is off for $ME; personal whitelist: 0 entries"
	run -0 gl -t
	assert_output "greylisting is now on for $ME"
	run -1 check_at "$T0" 192.0.2.1 a@example.org "$ME@example.org"
}

@test "user commands never join the environment: they work while DIR/lock is held" {
	bdb_only "the environment's lock"
	run -1 check_at "$T0" 192.0.2.1 a@example.org "$ME@example.org"
	run -0 gl checkpoint
	run -0 flock -x "$DB/lock" "$GREYLIST_BIN" -c "$CONF" -t
	run -0 flock -x "$DB/lock" "$GREYLIST_BIN" -c "$CONF"
	assert_output --partial 'a@example.org'
	assert [ ! -e "$DB/recover" ]
}

@test "an odd user file is ignored with a warning, and check still decides" {
	bdb_only "the settings file"
	run -0 gl -t
	local what
	for what in fifo dir garbage link; do
		rm -rf "$DB/users/$ME"
		case $what in
		fifo) mkfifo "$DB/users/$ME" ;;
		dir) mkdir "$DB/users/$ME" ;;
		garbage) printf 'greylisting off\n' >"$DB/users/$ME" ;;
		link) ln -s "$BATS_TEST_TMPDIR/elsewhere" "$DB/users/$ME" ;;
		esac
		run --separate-stderr -1 gl -v check --ip=192.0.2.1 \
		    --sender=a@example.org --rcpt="$ME@example.org"
		assert_output --partial "$DEFER"
		assert_regex "$stderr" "users/$ME.*ignored"
	done
}

@test "temp files that killed runs left are removed by the user's next run" {
	bdb_only "the settings files"
	run -0 gl -t
	touch "$DB/users/.$ME@999999999.abcdef" "$DB/users/.other@999999999.abcdef"
	run -0 gl -t
	assert [ ! -e "$DB/users/.$ME@999999999.abcdef" ]
	assert [ -e "$DB/users/.other@999999999.abcdef" ]
}

@test "a database made before DIR/users migrates on the first check, settings kept" {
	bdb_only "the Berkeley DB migration"
	run -0 gl stats
	rm -r "$DB/users"
	fixture_users | db5.3_load -h "$DB" greylist.db
	mkdir "$DB/.users-Killed" "$DB/.users-Recent"
	touch "$DB/.users-Killed/carol" && touch -d '-1 hour' "$DB/.users-Killed"
	run --separate-stderr -2 gl -t
	assert_error
	assert_regex "$stderr" 'not upgraded yet.*next check or admin command'
	assert [ ! -e "$DB/users" ]
	run -0 check_at "$T0" 192.0.2.1 x@example.org carol@example.org
	assert_output 'X-Greylist: opted out'
	run -0 check_at "$T0" 192.0.2.1 someone@friends.org dave@example.org
	assert_output 'X-Greylist: personal whitelist'
	run -0 check_at "$T0" 192.0.2.1 pal@mates.net dave@example.org
	run -1 check_at "$T0" 192.0.2.1 x@example.org dave@example.org
	assert_equal "$(ls "$DB/users")" "$(printf '%s\n' carol dave)"
	assert [ ! -e "$DB/.users-Killed" ]
	assert [ -d "$DB/.users-Recent" ]
	run -0 gl export
	assert_equal "$(grep '^user' <<<"$output")" "$(printf '%s\n' \
	    "userwl,,,dave,,@friends.org,$T0,,,,," \
	    "userwl,,,dave,,pal@mates.net,$T0,,,,," \
	    "user,,,carol,,off,$((T0 + 100)),,,,0," \
	    "user,,,dave,,on,$T0,,,,2,")"
	run -0 gl checkpoint
	run -0 db5.3_dump -p "$DB/greylist.db"
	refute_output --partial 'Ucarol'
}

@test "export and import round-trip user settings exactly" {
	local h='type,network,sender,recipient,domain,entry,first_seen,last_seen,passed_at,blocked,passes,count'
	printf '%s\n' "$h" "userwl,,,dave,,@friends.org,$T0,,,,," \
	    "userwl,,,dave,,pal@mates.net,$((T0 + 5)),,,,," \
	    "triplet,192.0.2.0/24,a@example.org,b@example.org,,,$T0,$T0,,1,0," \
	    "user,,,carol,,off,$((T0 + 100)),,,,0," "user,,,dave,,on,$T0,,,,2," \
	    >"$BATS_TEST_TMPDIR/in.csv"
	run -0 gl import "$BATS_TEST_TMPDIR/in.csv"
	run -0 gl export
	local first=$output
	assert_equal "$(grep -v '^counter' <<<"$output")" "$(cat "$BATS_TEST_TMPDIR/in.csv")"
	run -0 check_at "$T0" 192.0.2.1 x@example.org carol@example.org
	assert_output 'X-Greylist: opted out'
	run -0 gl import --replace - <<<"$first"
	run -0 gl export
	assert_equal "$(grep -v '^counter' <<<"$output")" "$(grep -v '^counter' <<<"$first")"
	printf '%s\n' "$h" >"$BATS_TEST_TMPDIR/empty.csv"
	run -0 gl import --replace "$BATS_TEST_TMPDIR/empty.csv"
	run -0 gl export
	refute_output --partial carol
	run -1 check_at "$T0" 192.0.2.1 x@example.org carol@example.org
}

@test "the listing says how old it is, shows the newest 1000 and -a all" {
	local i
	for ((i = 0; i < 1002; i++)); do
		echo "192.0.2.1,s$i@example.org,$ME@example.org,,$((T0 + i))"
	done >"$BATS_TEST_TMPDIR/rows"
	run -0 gl batch <"$BATS_TEST_TMPDIR/rows"
	run -0 gl checkpoint
	run -0 at $((T0 + 2000))
	if [ -z "${GREYLIST_TEST_REDIS:-}" ]; then
		assert_line --index 1 --regexp '^triplets as of [0-9]{4}-'
	fi
	assert_output --partial 's1001@example.org'
	refute_output --partial ' s0@example.org'
	refute_output --partial ' s1@example.org'
	assert_line '(2 older not shown; greylist -a shows all)'
	run -0 at $((T0 + 2000)) -a
	assert_output --partial ' s0@example.org'
	refute_output --partial 'not shown'
	run --separate-stderr -2 gl -a list
	assert_error
}

@test "greylist, list and export escape UTF-8 C1 controls on a terminal only" {
	run -1 check_at "$T0" 192.0.2.1 $'a\xc2\x9bb@example.org' "$ME@example.org"
	run -0 gl checkpoint
	local c
	for c in "" "list" "export"; do
		run -0 script -qec "$GREYLIST_BIN -c $CONF $c" /dev/null
		assert_output --partial 'a\u009bb@example.org'
		[[ $output != *$'\xc2\x9b'* ]]
	done
	run -0 gl export
	assert_output --partial $'a\xc2\x9bb@example.org'
}
