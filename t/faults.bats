#!/usr/bin/env bats
# Resource faults (DESIGN.md section 7): a full file system, a read-only
# database, and damaged database, region and log files. Each makes check
# exit 2 with one "greylist: ..." line (the MTA fails open) or is recovered
# by itself, and never loses, or silently rewrites, what was stored. A
# database from a newer format version is in store.bats.

load test_helper

# assert_failed_naming PATTERN: after run --separate-stderr, the command
# exited 2 with one "greylist: ..." line matching PATTERN.
assert_failed_naming() {
	assert_equal "$status" 2
	assert_error
	assert_regex "$stderr" "$1"
}

# answered_or_failed_open: after run --separate-stderr of a retry of the
# first triplet 60 s after T0, either the database answered and still
# knew it (the early retry's reply) or the check failed open (exit 2, one
# message on stderr, nothing on stdout).
answered_or_failed_open() {
	if [ "$status" -eq 1 ]; then
		assert_reply "$DEFER4"
	else
		assert_equal "$status" 2
		assert_error
	fi
}

setup() {
	bdb_only "the database's files on disk"
	setup_db
}

teardown() {
	if [ -n "${MNT:-}" ] && mountpoint -q "$MNT"; then
		umount "$MNT"
	fi
	open_dir_remove
}

# small_fs SIZE: mounts a tmpfs of SIZE for this test and moves the
# database onto it; skips unless this test may mount one (root).
small_fs() {
	[ "$(id -u)" -eq 0 ] || skip "needs root to mount a small file system"
	MNT=$BATS_TEST_TMPDIR/fs
	mkdir -p "$MNT"
	if ! mount -t tmpfs -o "size=$1" tmpfs "$MNT" 2>/dev/null; then
		MNT=
		skip "mounting a tmpfs is not permitted here"
	fi
	DB=$MNT/db
	printf 'database %s\n' "$DB" >"$CONF"
}

# fill_fs: fills the test's file system to its last byte.
fill_fs() {
	dd if=/dev/zero of="$MNT/fill" bs=4k 2>/dev/null || true
	assert_equal "$(df --output=avail "$MNT" | tail -n 1 | tr -d ' ')" 0
}

# new_until_full: checks new triplets at T0 until one is not stored (the
# log's last page may still hold a few); leaves that run's status and
# output, and the triplets that were stored in $BATS_TEST_TMPDIR/new.
new_until_full() {
	local i
	: >"$BATS_TEST_TMPDIR/new"
	for i in $(seq 1 200); do
		run --separate-stderr check_at "$T0" 198.51.$i.1 \
			new$i@example.org b@example.net
		[ "$status" -eq 1 ] || return 0
		echo "$i" >>"$BATS_TEST_TMPDIR/new"
	done
	fail "200 new triplets stored on a full file system"
}

# imported N [FROM]: import of import_rows N FROM.
imported() {
	import_rows "$1" "${2:-0}" >"$BATS_TEST_TMPDIR/stored.csv"
	run -0 gl import "$BATS_TEST_TMPDIR/stored.csv"
}

# settled: a checkpoint, then the log files it made unneeded removed
# (db5.3-util), as in a store that has run for a while: greylist.db holds
# every entry and the log no longer reaches back to its creation, so
# recovery cannot rebuild a damaged file from the log.
settled() {
	command -v db5.3_checkpoint >/dev/null &&
		command -v db5.3_archive >/dev/null ||
		skip "db5.3_checkpoint or db5.3_archive not installed (db5.3-util)"
	db5.3_checkpoint -1 -h "$DB"
	db5.3_archive -d -h "$DB"
	assert [ ! -e "$DB/log.0000000001" ]
}

# check_stored I [CLOCK]: check of stored triplet I, at T0 + 60 by default.
check_stored() {
	run --separate-stderr check_at "${2:-$((T0 + 60))}" \
		10.$(($1 / 256 % 256)).$(($1 % 256)).1 s$1@example.org r@example.net
}

# gl_bounded ARGS...: gl, killed after 20 s: an admin command has no
# watchdog of its own, and a damaged database must not hang the suite.
gl_bounded() {
	timeout 20 "$GREYLIST_BIN" -c "$CONF" "$@"
}

# triplets: network, sender, recipient and first seen of every stored
# triplet, sorted.
triplets() {
	gl_bounded export | grep '^triplet,' | cut -d, -f2-4,7 | sort
}

# assert_kept BEFORE: every triplet in the file BEFORE is still stored,
# first seen unchanged.
assert_kept() {
	triplets >"$BATS_TEST_TMPDIR/after"
	run comm -23 "$1" "$BATS_TEST_TMPDIR/after"
	assert_output ''
}

# ro_mount: remounts the database directory read-only (a bind mount onto
# itself); skips unless this test may mount.
ro_mount() {
	[ "$(id -u)" -eq 0 ] || skip "needs root for a read-only bind mount"
	if ! mount --bind "$DB" "$DB" 2>/dev/null; then
		skip "bind mounts are not permitted here"
	fi
	MNT=$DB
	mount -o remount,bind,ro "$DB"
	run ! touch "$DB/probe"
}

@test "a new triplet on a full file system fails open with a no-space message" {
	small_fs 16m
	run -1 check_at "$T0" 192.0.2.1 a@example.org b@example.net
	fill_fs
	new_until_full
	assert_failed_naming 'No space left on device'
}

@test "an early retry on a full file system fails open too, since every decision writes" {
	small_fs 16m
	run -1 check_at "$T0" 192.0.2.1 a@example.org b@example.net
	fill_fs
	new_until_full
	run --separate-stderr -2 check_at $((T0 + 60)) 192.0.2.1 a@example.org b@example.net
	assert_error
	assert_regex "$stderr" 'No space left on device'
}

@test "once space is freed checks work again and nothing stored was lost" {
	small_fs 16m
	run -1 check_at "$T0" 192.0.2.1 a@example.org b@example.net
	fill_fs
	new_until_full
	assert_equal "$status" 2
	rm "$MNT/fill"
	remembered $((T0 + 60)) 192.0.2.1 a@example.org b@example.net
	local i
	while read -r i; do
		remembered $((T0 + 60)) 198.51.$i.1 new$i@example.org b@example.net
	done <"$BATS_TEST_TMPDIR/new"
	run -1 check_at "$T0" 203.0.113.1 after@example.org b@example.net
	if command -v db5.3_verify >/dev/null; then
		run -0 db5.3_verify -h "$DB" greylist.db
	fi
}

@test "a check that must grow shared memory on a full file system fails open rather than dying of SIGBUS" {
	small_fs 32m
	imported 20000
	# Recovery recreates the regions small, as after any crash; checks
	# reading other pages then grow the cache's region file.
	touch "$DB/recover"
	run -1 check_at "$T0" 192.0.2.1 a@example.org b@example.net
	fill_fs
	local i
	for i in $(seq 0 500 19999); do
		check_stored "$i"
		answered_or_failed_open
	done
	rm "$MNT/fill"
	check_stored 19999
	assert_equal "$status" 1
	assert_equal "$(triplets | wc -l)" 20001
}

@test "an export on a full file system ends with a message rather than SIGBUS" {
	small_fs 32m
	imported 20000
	touch "$DB/recover"
	run -1 check_at "$T0" 192.0.2.1 a@example.org b@example.net
	fill_fs
	run --separate-stderr gl_bounded export
	assert [ "$status" -eq 0 -o "$status" -eq 2 ]
	if [ "$status" -eq 2 ]; then
		assert_equal "${#stderr_lines[@]}" 1
		assert_regex "$stderr" '^greylist: .'
	fi
}

@test "a check by a user who may not write the database fails open and changes nothing" {
	open_dir
	run -1 check_at "$T0" 192.0.2.1 a@example.org b@example.net
	local before as=()
	before=$(gl export)
	if [ "$(id -u)" -eq 0 ]; then
		chmod 755 "$DB"
		chmod 644 "$DB"/*
		as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
	else
		chmod 555 "$DB"
		chmod 444 "$DB"/*
	fi
	run --separate-stderr -2 env GREYLIST_NOW=$((T0 + 60)) "${as[@]}" \
		"$GREYLIST_BIN" -c "$CONF" check --ip=192.0.2.1 \
		--sender=a@example.org --rcpt=b@example.net
	assert_error
	assert_regex "$stderr" 'Permission denied'
	chmod 770 "$DB"
	chmod 660 "$DB"/*
	assert_equal "$(gl export)" "$before"
}

@test "a check on a read-only mount fails open and changes nothing" {
	run -1 check_at "$T0" 192.0.2.1 a@example.org b@example.net
	local before
	before=$(gl export)
	ro_mount
	run --separate-stderr -2 check_at $((T0 + 60)) 192.0.2.1 a@example.org b@example.net
	assert_error
	assert_regex "$stderr" 'Read-only file system'
	run --separate-stderr -2 check_at "$T0" 192.0.2.9 new@example.org b@example.net
	assert_error
	umount "$DB"
	assert_equal "$(gl export)" "$before"
}

@test "a store marked for recovery on a read-only mount fails open and is recovered later" {
	run -1 check_at "$T0" 192.0.2.1 a@example.org b@example.net
	touch "$DB/recover"
	ro_mount
	run --separate-stderr -2 check_at $((T0 + 60)) 192.0.2.1 a@example.org b@example.net
	assert_error
	assert_regex "$stderr" 'Read-only file system'
	umount "$DB"
	remembered $((T0 + 60)) 192.0.2.1 a@example.org b@example.net
	assert [ ! -e "$DB/recover" ]
}

@test "a database file truncated to zero bytes is refused and left as it is" {
	imported 10000
	settled
	: >"$DB/greylist.db"
	check_stored 1
	assert_failed_naming 'greylist\.db'
	run --separate-stderr -2 check_at "$T0" 192.0.2.9 new@example.org b@example.net
	assert_error
	assert [ ! -s "$DB/greylist.db" ]
}

@test "a new database file truncated to zero bytes after a crash is refused with a message naming it" {
	# The log still reaches back to the file's creation: recovery could
	# rebuild it whole, which would do as well.
	run -1 check_at "$T0" 192.0.2.1 a@example.org b@example.net
	: >"$DB/greylist.db"
	touch "$DB/recover"
	run --separate-stderr check_at $((T0 + 60)) 192.0.2.1 a@example.org b@example.net
	answered_or_failed_open
	if [ "$status" -eq 2 ]; then
		assert_regex "$stderr" 'greylist\.db'
		assert [ ! -s "$DB/greylist.db" ]
	fi
}

@test "an older database file truncated to zero bytes after a crash is refused and left as it is" {
	imported 10000
	settled
	: >"$DB/greylist.db"
	touch "$DB/recover"
	check_stored 1
	assert_failed_naming 'greylist\.db'
	assert [ ! -s "$DB/greylist.db" ]
}

@test "a database file truncated to half is refused, not recovered into a smaller database" {
	imported 10000
	settled
	imported 1000 10000
	local size
	size=$(stat -c %s "$DB/greylist.db")
	assert [ "$size" -gt 65536 ]
	truncate -s $((size / 2)) "$DB/greylist.db"
	# The regions may still cache the lost pages; the first crash (any
	# kill -9 marks the store) makes the next process recover from the
	# file and the log written since the checkpoint. Recovery may
	# rewrite pages before the loss shows, so what is asserted is that
	# nothing goes on with what is left.
	touch "$DB/recover"
	check_stored 9999
	assert_failed_naming 'greylist\.db'
	check_stored 1
	assert_equal "$status" 2
	assert_error
	run --separate-stderr -2 gl_bounded export
	assert_regex "$stderr" 'greylist\.db'
}

# random_db_refused [CRASH]: greylist.db of 10,000 settled entries
# overwritten with random bytes (and the store marked for recovery, as
# after a crash, when CRASH is given) is refused and left as it is.
random_db_refused() {
	local sum
	imported 10000
	settled
	head -c "$(stat -c %s "$DB/greylist.db")" /dev/urandom >"$DB/greylist.db"
	sum=$(md5sum <"$DB/greylist.db")
	[ -z "${1:-}" ] || touch "$DB/recover"
	check_stored 1
	assert_failed_naming 'greylist\.db'
	assert_equal "$(md5sum <"$DB/greylist.db")" "$sum"
}

@test "a database file of random bytes, before or after a crash, is refused and left as it is" {
	each_row random_db_refused "
	a database file of random bytes is refused and left as it is
	a database file of random bytes after a crash is refused and left as it is|crash
	"
}

# region_garbage N: region file __db.00N overwritten with random bytes: the
# first check answers or fails open (exit 2, one line), the next answers,
# and nothing stored is lost.
region_garbage() {
	imported 2000
	run -1 check_at "$T0" 192.0.2.1 a@example.org b@example.net
	triplets >"$BATS_TEST_TMPDIR/before"
	local f=$DB/__db.00$1
	head -c "$(stat -c %s "$f")" /dev/urandom >"$f"
	run --separate-stderr check_at $((T0 + 60)) 192.0.2.1 a@example.org b@example.net
	answered_or_failed_open
	check_stored 1999
	assert_equal "$status" 1
	assert_reply "$DEFER4"
	assert_kept "$BATS_TEST_TMPDIR/before"
}

@test "random bytes in region file __db.001 are recovered from with nothing lost" {
	region_garbage 1
}

@test "random bytes in region file __db.002 are recovered from with nothing lost" {
	region_garbage 2
}

@test "random bytes in region file __db.003 are recovered from with nothing lost" {
	region_garbage 3
}

@test "missing log files never silently drop stored entries" {
	run -1 check_at "$T0" 192.0.2.1 a@example.org b@example.net
	run -1 check_at "$T0" 192.0.3.1 c@example.org d@example.net
	rm "$DB"/log.*
	local i
	for i in 1 2 3; do
		run --separate-stderr check_at $((T0 + 60)) 192.0.2.1 a@example.org b@example.net
		answered_or_failed_open
	done
	run --separate-stderr gl_bounded export
	if [ "$status" -eq 0 ]; then
		assert_line --partial 'triplet,192.0.3.0/24,c@example.org,d@example.net,,,1700000000,'
	else
		assert_equal "$status" 2
	fi
}
