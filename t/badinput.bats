#!/usr/bin/env bats
# Bad input and unusable databases: exit 2, nothing on stdout, one line on
# stderr starting "greylist: ", and the database left as it was.

load test_helper

# seed: the standard triplet is first seen at T0.
seed() {
	run -1 check_at "$T0" "$IP" "$S" "$R"
	assert_output "$DEFER5"
}

# assert_db_unchanged: the seeded triplet is still there with its first
# seen time, and the standard rejected call's triplet was not stored.
assert_db_unchanged() {
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" "$S" "$R"
	assert_reply "$DEFER4"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" "$S" carol@example.net
	assert_reply "$DEFER5"
}

# open_to_nobody: let user nobody reach the test's directory and config.
open_to_nobody() {
	chmod o+x "$BATS_RUN_TMPDIR" "$BATS_RUN_TMPDIR/test" "$BATS_TEST_TMPDIR"
	chmod o+r "$CONF"
	setpriv --reuid=nobody --regid=nogroup --clear-groups test -r "$CONF" ||
		skip "user nobody cannot reach $CONF"
	setpriv --reuid=nobody --regid=nogroup --clear-groups test -x "$GREYLIST_BIN" ||
		skip "user nobody cannot run $GREYLIST_BIN"
}

teardown() {
	if [ -d "$DB" ]; then chmod -R u+w "$DB"; fi
}

# rejected FIELD VALUE: a check whose --ip, --sender or --rcpt (FIELD) is
# VALUE (printf %b escapes), the others valid, is refused, and the seeded
# database is as it was.
rejected() {
	local v ip=$IP s=$S r=carol@example.net
	printf -v v '%b' "$2"
	case $1 in
	ip) ip=$v ;;
	sender) s=$v ;;
	rcpt) r=$v ;;
	*) fail "rejected: no field $1" ;;
	esac
	seed
	run -2 --separate-stderr check_at "$T0" "$ip" "$s" "$r"
	assert_error
	assert_db_unchanged
}

@test "a bad client address, sender or recipient is rejected" {
	local a501 b501
	a501=$(printf 'a%.0s' {1..501})
	b501=$(printf 'b%.0s' {1..501})
	each_row rejected "
	an IPv4 address with three parts is rejected|ip|1.2.3
	an IPv4 address with an octet over 255 is rejected|ip|256.1.1.1
	an IP address made of letters is rejected|ip|abc
	an empty IP address is rejected|ip|
	an IP address with a trailing space is rejected|ip|1.2.3.4\x20
	an IP address with a leading space is rejected|ip| 1.2.3.4
	an IP address with a prefix length is rejected|ip|192.0.2.1/24
	a malformed IPv6 address is rejected|ip|2001:db8::g
	an IPv6 address with two double colons is rejected|ip|2001::db8::1
	a sender over 512 bytes is rejected|sender|$a501@example.org
	a recipient over 512 bytes is rejected|rcpt|$b501@example.net
	a recipient with a control character is rejected|rcpt|carol\x01@example.net
	a recipient with a tab inside is rejected|rcpt|carol\t@example.net
	a recipient with a DEL character is rejected|rcpt|carol\x7f@example.net
	a sender with a control character is rejected|sender|alice\x01@example.org
	a sender with a newline inside is rejected|sender|alice@example.org\nX-Injected: yes
	a sender of invalid UTF-8 junk is rejected|sender|\xff\xfe@example.org
	a sender with a truncated UTF-8 sequence is rejected|sender|caf\xc3@example.org
	a sender with an overlong UTF-8 encoding is rejected|sender|a\xc0\xafb@example.org
	a recipient of invalid UTF-8 junk is rejected|rcpt|carol\xff\xfe@example.net
	an empty recipient is rejected|rcpt|
	a recipient of only spaces is rejected|rcpt|\x20\x20\x20
	a recipient of only angle brackets is rejected|rcpt|<>
	"
}

@test "addresses at the length limit and in valid UTF-8 are accepted" {
	local a500 b500
	a500=$(printf 'a%.0s' {1..500})
	b500=$(printf 'b%.0s' {1..500})
	each_row first_check "
	a sender of exactly 512 bytes is accepted||1|$DEFER5|$IP|$a500@example.org|$R
	a recipient of exactly 512 bytes is accepted||1|$DEFER5|$IP|$S|$b500@example.net
	a sender in valid UTF-8 is accepted||1|$DEFER5|$IP|$(printf '%b' 'j\xc3\xb6rg@example.org')|$R
	"
}

# escaped_args WORDS: ARGS, the words of WORDS (split at spaces), each
# with its printf %b escapes expanded.
escaped_args() {
	local w
	ARGS=()
	for w in $1; do
		ARGS+=("$(printf '%b' "$w")")
	done
}

# refused ARGS: greylist ARGS (escaped_args) at T0 is refused, and the
# seeded database is as it was.
refused() {
	escaped_args "$1"
	seed
	run -2 --separate-stderr at "$T0" "${ARGS[@]}"
	assert_error
	assert_db_unchanged
}

@test "a check with a missing, incomplete or unknown option is rejected" {
	each_row refused "
	a missing --ip is rejected|check --sender=$S --rcpt=carol@example.net
	a missing --sender is rejected|check --ip=$IP --rcpt=carol@example.net
	a missing --rcpt is rejected|check --ip=$IP --sender=$S
	an option without its value is rejected|check --sender=$S --rcpt=carol@example.net --ip
	an unknown check option is rejected|check --ip=$IP --sender=$S --rcpt=carol@example.net --bogus=1
	an unknown global option is rejected|-x check --ip=$IP --sender=$S --rcpt=carol@example.net
	"
}

# no_database ARGS: greylist ARGS (as refused) at T0 is refused before
# the database directory is made.
no_database() {
	escaped_args "$1"
	run -2 --separate-stderr at "$T0" "${ARGS[@]}"
	assert_error
	assert [ ! -e "$DB" ]
}

@test "rejected input does not create the database directory" {
	each_row no_database "
	a rejected --ip does not create the database directory|check --ip=1.2.3 --sender=$S --rcpt=$R
	a missing --ip does not create the database directory|check --sender=$S --rcpt=$R
	a rejected sender does not create the database directory|check --ip=$IP --sender=\xff\xfe@example.org --rcpt=$R
	a rejected recipient does not create the database directory|check --ip=$IP --sender=$S --rcpt=
	an unknown option does not create the database directory|check --ip=$IP --sender=$S --rcpt=$R --bogus=1
	"
}

@test "an unknown check option does not let a retry pass" {
	seed
	run -2 --separate-stderr at $((T0 + 300)) check --ip="$IP" --sender="$S" --rcpt="$R" --bogus
	assert_error
	run -1 --separate-stderr check_at $((T0 + 240)) "$IP" "$S" "$R"
	assert_reply "${DEFER}00:01:00"
}

@test "an unknown command is named in the error" {
	run -2 --separate-stderr gl foo
	assert_equal "$output" ''
	assert_equal "${stderr_lines[0]}" "greylist: unknown command 'foo'"
	assert [ ! -e "$DB" ]
}

@test "a database directory whose parent is a regular file is an error" {
	printf 'plain file\n' >"$BATS_TEST_TMPDIR/file"
	printf 'database %s\n' "$BATS_TEST_TMPDIR/file/db" >"$CONF"
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_error
	assert_equal "$(cat "$BATS_TEST_TMPDIR/file")" 'plain file'
}

@test "a database directory two levels below a missing one is an error" {
	printf 'database %s\n' "$BATS_TEST_TMPDIR/missing/db" >"$CONF"
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_error
	assert [ ! -e "$BATS_TEST_TMPDIR/missing" ]
}

@test "a database path that is a regular file is an error" {
	bdb_only "the database directory and its files"
	printf 'plain file\n' >"$DB"
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_error
	assert_equal "$(cat "$DB")" 'plain file'
}

@test "a database file that is not a database is an error and left as it was" {
	bdb_only "the database directory and its files"
	mkdir "$DB"
	yes 'this is not a Berkeley DB file' | head -c 16384 >"$DB/greylist.db"
	cp "$DB/greylist.db" "$BATS_TEST_TMPDIR/garbage"
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_error
	cmp "$DB/greylist.db" "$BATS_TEST_TMPDIR/garbage"
}

@test "a database file that is not a database stays refused on a second call" {
	bdb_only "the database directory and its files"
	mkdir "$DB"
	yes 'this is not a Berkeley DB file' | head -c 16384 >"$DB/greylist.db"
	cp "$DB/greylist.db" "$BATS_TEST_TMPDIR/garbage"
	run -2 check_at "$T0" "$IP" "$S" "$R"
	run -2 --separate-stderr check_at $((T0 + 300)) "$IP" "$S" "$R"
	assert_error
	cmp "$DB/greylist.db" "$BATS_TEST_TMPDIR/garbage"
}

@test "a read-only database directory is an error and left as it was" {
	bdb_only "the database directory and its files"
	seed
	if [ "$(id -u)" -eq 0 ]; then
		open_to_nobody
		chmod 0755 "$DB"
		chmod -R o+r "$DB"
		run -2 --separate-stderr as_nobody check --ip="$IP" --sender="$S" --rcpt=carol@example.net
	else
		chmod -R a-w "$DB"
		run -2 --separate-stderr check_at "$T0" "$IP" "$S" carol@example.net
	fi
	assert_error
	chmod -R u+w "$DB"
	assert_db_unchanged
}

@test "a database directory the caller cannot enter is an error" {
	bdb_only "the database directory and its files"
	[ "$(id -u)" -eq 0 ] || skip 'needs root to run as another user'
	seed
	open_to_nobody
	chmod 0700 "$DB"
	run -2 --separate-stderr as_nobody check --ip="$IP" --sender="$S" --rcpt=carol@example.net
	assert_error
	assert_db_unchanged
}

@test "a test clock that is not a time a record can hold is refused" {
	seed
	local v
	for v in '' abc -5 12x 4294967296 99999999999999999999; do
		run -2 --separate-stderr check_at "$v" "$IP" "$S" carol@example.net
		assert_error
		assert_regex "$stderr" 'GREYLIST_NOW'
	done
	assert_db_unchanged
	# the last second of 32-bit time still works
	run -1 --separate-stderr check_at 4294967295 "$IP" "$S" carol@example.net
	assert_reply "$DEFER5"
}
