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

# rejects_ip IP: a check from client IP is refused.
rejects_ip() {
	seed
	run -2 --separate-stderr check_at "$T0" "$1" "$S" carol@example.net
	assert_error
	assert_db_unchanged
}

# rejects_sender ADDR: a check with sender ADDR is refused.
rejects_sender() {
	seed
	run -2 --separate-stderr check_at "$T0" "$IP" "$1" carol@example.net
	assert_error
	assert_db_unchanged
}

# rejects_rcpt ADDR: a check with recipient ADDR is refused.
rejects_rcpt() {
	seed
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" "$1"
	assert_error
	assert_db_unchanged
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

@test "a missing --ip is rejected" {
	seed
	run -2 --separate-stderr at "$T0" check --sender="$S" --rcpt=carol@example.net
	assert_error
	assert_db_unchanged
}

@test "a missing --sender is rejected" {
	seed
	run -2 --separate-stderr at "$T0" check --ip="$IP" --rcpt=carol@example.net
	assert_error
	assert_db_unchanged
}

@test "a missing --rcpt is rejected" {
	seed
	run -2 --separate-stderr at "$T0" check --ip="$IP" --sender="$S"
	assert_error
	assert_db_unchanged
}

@test "an option without its value is rejected" {
	seed
	run -2 --separate-stderr at "$T0" check --sender="$S" --rcpt=carol@example.net --ip
	assert_error
	assert_db_unchanged
}

@test "an IPv4 address with three parts is rejected" {
	rejects_ip 1.2.3
}

@test "an IPv4 address with an octet over 255 is rejected" {
	rejects_ip 256.1.1.1
}

@test "an IP address made of letters is rejected" {
	rejects_ip abc
}

@test "an empty IP address is rejected" {
	rejects_ip ''
}

@test "an IP address with a trailing space is rejected" {
	rejects_ip '1.2.3.4 '
}

@test "an IP address with a leading space is rejected" {
	rejects_ip ' 1.2.3.4'
}

@test "an IP address with a prefix length is rejected" {
	rejects_ip 192.0.2.1/24
}

@test "a malformed IPv6 address is rejected" {
	rejects_ip 2001:db8::g
}

@test "an IPv6 address with two double colons is rejected" {
	rejects_ip 2001::db8::1
}

@test "a sender of exactly 512 bytes is accepted" {
	local local_part
	local_part=$(printf 'a%.0s' {1..500})
	run -1 --separate-stderr check_at "$T0" "$IP" "$local_part@example.org" "$R"
	assert_reply "$DEFER5"
}

@test "a sender over 512 bytes is rejected" {
	local local_part
	local_part=$(printf 'a%.0s' {1..501})
	rejects_sender "$local_part@example.org"
}

@test "a recipient of exactly 512 bytes is accepted" {
	local local_part
	local_part=$(printf 'b%.0s' {1..500})
	run -1 --separate-stderr check_at "$T0" "$IP" "$S" "$local_part@example.net"
	assert_reply "$DEFER5"
}

@test "a recipient over 512 bytes is rejected" {
	local local_part
	local_part=$(printf 'b%.0s' {1..501})
	rejects_rcpt "$local_part@example.net"
}

@test "a recipient with a control character is rejected" {
	rejects_rcpt $'carol\x01@example.net'
}

@test "a recipient with a tab inside is rejected" {
	rejects_rcpt $'carol\t@example.net'
}

@test "a recipient with a DEL character is rejected" {
	rejects_rcpt $'carol\x7f@example.net'
}

@test "a sender with a control character is rejected" {
	rejects_sender $'alice\x01@example.org'
}

@test "a sender with a newline inside is rejected" {
	rejects_sender $'alice@example.org\nX-Injected: yes'
}

@test "a sender of invalid UTF-8 junk is rejected" {
	rejects_sender $'\xff\xfe@example.org'
}

@test "a sender with a truncated UTF-8 sequence is rejected" {
	rejects_sender $'caf\xc3@example.org'
}

@test "a sender with an overlong UTF-8 encoding is rejected" {
	rejects_sender $'a\xc0\xafb@example.org'
}

@test "a recipient of invalid UTF-8 junk is rejected" {
	rejects_rcpt $'carol\xff\xfe@example.net'
}

@test "a sender in valid UTF-8 is accepted" {
	run -1 --separate-stderr check_at "$T0" "$IP" $'j\xc3\xb6rg@example.org' "$R"
	assert_reply "$DEFER5"
}

@test "an empty recipient is rejected" {
	rejects_rcpt ''
}

@test "a recipient of only spaces is rejected" {
	rejects_rcpt '   '
}

@test "a recipient of only angle brackets is rejected" {
	rejects_rcpt '<>'
}

@test "an unknown check option is rejected" {
	seed
	run -2 --separate-stderr at "$T0" check --ip="$IP" --sender="$S" --rcpt=carol@example.net --bogus=1
	assert_error
	assert_db_unchanged
}

@test "an unknown check option does not let a retry pass" {
	seed
	run -2 --separate-stderr at $((T0 + 300)) check --ip="$IP" --sender="$S" --rcpt="$R" --bogus
	assert_error
	run -1 --separate-stderr check_at $((T0 + 240)) "$IP" "$S" "$R"
	assert_reply "${DEFER}00:01:00"
}

@test "an unknown global option is rejected" {
	seed
	run -2 --separate-stderr at "$T0" -x check --ip="$IP" --sender="$S" --rcpt=carol@example.net
	assert_error
	assert_db_unchanged
}

@test "an unknown command is named in the error" {
	run -2 --separate-stderr gl foo
	assert_equal "$output" ''
	assert_equal "${stderr_lines[0]}" "greylist: unknown command 'foo'"
	assert [ ! -e "$DB" ]
}

@test "a rejected --ip does not create the database directory" {
	run -2 --separate-stderr check_at "$T0" 1.2.3 "$S" "$R"
	assert_error
	assert [ ! -e "$DB" ]
}

@test "a missing --ip does not create the database directory" {
	run -2 --separate-stderr at "$T0" check --sender="$S" --rcpt="$R"
	assert_error
	assert [ ! -e "$DB" ]
}

@test "a rejected sender does not create the database directory" {
	run -2 --separate-stderr check_at "$T0" "$IP" $'\xff\xfe@example.org' "$R"
	assert_error
	assert [ ! -e "$DB" ]
}

@test "a rejected recipient does not create the database directory" {
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" ''
	assert_error
	assert [ ! -e "$DB" ]
}

@test "an unknown option does not create the database directory" {
	run -2 --separate-stderr at "$T0" check --ip="$IP" --sender="$S" --rcpt="$R" --bogus=1
	assert_error
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
