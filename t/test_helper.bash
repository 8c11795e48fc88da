# Shared setup for the bats tests: a fresh config and database per test
# (or per row of a table test, each_row), the binary under test, the clock
# helpers (time moves only through GREYLIST_NOW), and the helpers the test
# files share, each defined here only.

bats_require_minimum_version 1.5.0
export LC_ALL=C

# bats-support and bats-assert are found on BATS_LIB_PATH (make check sets
# it); run by hand, where Debian installs them.
BATS_LIB_PATH=${BATS_LIB_PATH:-/usr/lib/bats}
bats_load_library bats-support
bats_load_library bats-assert

: "${GREYLIST_BIN:=$BATS_TEST_DIRNAME/../src/greylist}"
export GREYLIST_BIN

# A fixed start clock (2023-11-14 22:13:20 UTC) and the default durations.
T0=1700000000
EMBARGO=300
RETRY_WINDOW=$((28 * 3600))
LIFETIME=$((36 * 86400))

# The triplet most tests check: client address, sender, recipient.
IP=192.0.2.1
S=alice@example.org
R=bob@example.net

# The first line of export's CSV (and of what import reads).
EXPORT_HEADER='type,network,sender,recipient,domain,entry,first_seen,last_seen,passed_at,blocked,passes,count'

DEFER='451 4.7.1 Greylisted, please retry later retry='
DEFER5="${DEFER}00:05:00"
DEFER4="${DEFER}00:04:00"

# setup_db [NAME]: the test's database and config file (DB, CONF), on the
# Redis server of t/redis-run when the suite runs against it; clock not
# set. A file with a setup of its own calls it; NAME gives another pair
# of the same test (each_row).
setup_db() {
	local dir=$BATS_TEST_TMPDIR${1:+/$1}
	unset GREYLIST_NOW
	mkdir -p "$dir"
	DB=$dir/db
	CONF=$dir/greylist.conf
	printf 'database %s\n' "$DB" >"$CONF"
	if [ -n "${GREYLIST_TEST_REDIS:-}" ]; then
		printf '%s\n' 'backend redis' "redis_server $GREYLIST_TEST_REDIS" \
			"redis_prefix t$$.${BATS_TEST_NUMBER}${1:+.$1}:" >>"$CONF"
	fi
	export DB CONF
}

# each_row FUNC TABLE: FUNC once for each line of TABLE (blank lines and
# leading white space are skipped), with the line's fields, split at "|",
# as arguments after the first, which names the row. Each row has a
# config and database of its own (setup_db). The row under way is
# printed first, so a failing row is named in the failed test's output;
# the first failing row fails the test.
each_row() {
	local _row_fn=$1 _row_line _row_n=0
	local -a _row_lines _row_fields
	mapfile -t _row_lines <<<"$2"
	for _row_line in "${_row_lines[@]}"; do
		_row_line=${_row_line#"${_row_line%%[![:space:]]*}"}
		[ -n "$_row_line" ] || continue
		_row_n=$((_row_n + 1))
		IFS='|' read -r -a _row_fields <<<"$_row_line"
		echo "row $_row_n: ${_row_fields[0]}"
		setup_db "row$_row_n"
		"$_row_fn" "${_row_fields[@]:1}"
	done
	[ "$_row_n" -gt 0 ] || fail "each_row: no rows"
}

# conf_lines LINES: conf with LINES split at ";" (nothing when empty).
conf_lines() {
	local -a lines
	[ -n "$1" ] || return 0
	IFS=';' read -r -a lines <<<"$1"
	conf "${lines[@]}"
}

setup() {
	setup_db
}

# bdb_only WHY: skips a test that is about the Berkeley DB files when the
# suite runs against the Redis backend (t/redis-run).
bdb_only() {
	[ -z "${GREYLIST_TEST_REDIS:-}" ] || skip "Berkeley DB only: $*"
}

# conf LINE...: append lines to the test's config file.
conf() {
	printf '%s\n' "$@" >>"$CONF"
}

# gl ARGS...: the binary with the test's config, clock not set.
gl() {
	"$GREYLIST_BIN" -c "$CONF" "$@"
}

# at SECONDS ARGS...: the binary with the test's config at a given clock.
at() {
	GREYLIST_NOW=$1 "$GREYLIST_BIN" -c "$CONF" "${@:2}"
}

# check_at SECONDS IP SENDER RCPT [ARGS...]: one check decision at a clock.
check_at() {
	GREYLIST_NOW=$1 "$GREYLIST_BIN" -c "$CONF" check \
		--ip="$2" --sender="$3" --rcpt="$4" "${@:5}"
}

# one_triplet CONF IP SENDER RCPT IP2 SENDER2 RCPT2: with the config
# lines CONF (conf_lines), the second triplet checked 60 s after the first
# is the same triplet: an early retry told four minutes.
one_triplet() {
	conf_lines "$1"
	run -1 check_at "$T0" "$2" "$3" "$4"
	run -1 --separate-stderr check_at $((T0 + 60)) "$5" "$6" "$7"
	assert_reply "$DEFER4"
}

# two_triplets CONF IP SENDER RCPT IP2 SENDER2 RCPT2: as one_triplet, but
# the second is a new triplet told five minutes, while the first, checked
# again, is still told four.
two_triplets() {
	conf_lines "$1"
	run -1 check_at "$T0" "$2" "$3" "$4"
	run -1 --separate-stderr check_at $((T0 + 60)) "$5" "$6" "$7"
	assert_reply "$DEFER5"
	run -1 --separate-stderr check_at $((T0 + 60)) "$2" "$3" "$4"
	assert_reply "$DEFER4"
}

# check_gives CLOCK STATUS REPLY IP SENDER RCPT [ARGS...]: a check at
# CLOCK exits STATUS with the one line REPLY.
check_gives() {
	run "-$2" --separate-stderr check_at "$1" "${@:4}"
	assert_reply "$3"
}

# first_check CONF STATUS REPLY IP SENDER RCPT [ARGS...]: with the config
# lines CONF (conf_lines), a check at T0 exits STATUS with the one line
# REPLY.
first_check() {
	conf_lines "$1"
	run "-$2" --separate-stderr check_at "$T0" "${@:4}"
	assert_reply "$3"
}

# retry_check CONF AFTER STATUS REPLY: with the config lines CONF, the
# standard triplet is new at T0, and its retry at T0 + AFTER (an
# arithmetic expression) exits STATUS with the one line REPLY.
retry_check() {
	conf_lines "$1"
	run -1 check_at "$T0" "$IP" "$S" "$R"
	run "-$3" --separate-stderr check_at $((T0 + $2)) "$IP" "$S" "$R"
	assert_reply "$4"
}

# after_pass CONF IP AT STATUS REPLY IP2 SENDER2 RCPT2: with the config
# lines CONF, the standard sender and recipient from IP are told five
# minutes at T0 and pass at T0 + 300; then a check of IP2 SENDER2 RCPT2 at
# T0 + AT (an arithmetic expression) exits STATUS with the one line REPLY.
after_pass() {
	conf_lines "$1"
	run -1 --separate-stderr check_at "$T0" "$2" "$S" "$R"
	assert_reply "$DEFER5"
	run -0 --separate-stderr check_at $((T0 + EMBARGO)) "$2" "$S" "$R"
	assert_reply "X-Greylist: delayed $EMBARGO seconds"
	run "-$4" --separate-stderr check_at $((T0 + $3)) "${@:6}"
	assert_reply "$5"
}

# check_pass CLOCK IP SENDER RCPT: the triplet is new at CLOCK - 300 and
# passes at CLOCK, which whitelists its network and sender domain.
check_pass() {
	run -1 check_at $(($1 - EMBARGO)) "$2" "$3" "$4"
	run -0 --separate-stderr check_at "$1" "$2" "$3" "$4"
	assert_reply "X-Greylist: delayed $EMBARGO seconds"
}

# remembered CLOCK IP SENDER RCPT: the triplet, first seen at CLOCK - 60,
# is still stored: at CLOCK it is an early retry with four minutes left.
remembered() {
	run -1 --separate-stderr check_at "$1" "$2" "$3" "$4"
	assert_reply "$DEFER4"
}

# as_nobody ARGS...: the binary as user nobody, without supplementary
# groups, with the test's config, at T0. The caller is root and has made
# the config and database reachable (open_dir).
as_nobody() {
	GREYLIST_NOW=$T0 setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$GREYLIST_BIN" -c "$CONF" "$@"
}

# open_dir: the config and database (Berkeley DB) in a directory other
# users may enter (the test's own directory is private to root), for
# as_nobody; the test's teardown calls open_dir_remove.
open_dir() {
	OPEN_DIR=$(mktemp -d /tmp/greylist-test.XXXXXX)
	chmod 755 "$OPEN_DIR"
	DB=$OPEN_DIR/db
	CONF=$OPEN_DIR/greylist.conf
	printf 'database %s\n' "$DB" >"$CONF"
	chmod 644 "$CONF"
}

open_dir_remove() {
	[ -z "${OPEN_DIR:-}" ] || rm -rf "$OPEN_DIR"
}

# import_rows N [FROM [CLOCK]]: export's CSV of N pending triplets first
# and last seen at CLOCK (T0), numbered from FROM (0): triplet I is
# (10.A.B.0/24, sI@example.org, r@example.net) with A.B = I as two bytes.
import_rows() {
	awk -v n="$1" -v f="${2:-0}" -v t="${3:-$T0}" -v h="$EXPORT_HEADER" 'BEGIN {
		print h
		for (i = f; i < f + n; i++)
			printf "triplet,10.%d.%d.0/24,s%d@example.org,r@example.net,,,%d,%d,,1,0,\n",
			    int(i / 256) % 256, i % 256, i, t, t
	}'
}

# req STATE IP SENDER RCPT [INSTANCE]: one policy request as Postfix 3.7
# writes it, for the message INSTANCE; by default each for a message of
# its own (instance ends .0, .1, ... within a test).
req() {
	local f=$BATS_TEST_TMPDIR/instance n
	n=$(cat "$f" 2>/dev/null || echo 0)
	echo $((n + 1)) >"$f"
	printf '%s\n' request=smtpd_access_policy "protocol_state=$1" \
		protocol_name=ESMTP "client_address=$2" client_name=unknown \
		reverse_client_name=unknown helo_name=mx.example.org \
		"sender=$3" "recipient=$4" recipient_count=0 queue_id= \
		"instance=${5:-1a2b.655a1b00.c3d4e.$n}" size=0 etrn_domain= stress= \
		sasl_method= sasl_username= sasl_sender= ccert_subject= \
		ccert_issuer= ccert_fingerprint= ccert_pubkey_fingerprint= \
		encryption_protocol= encryption_cipher= encryption_keysize=0 \
		policy_context= server_address=192.0.2.25 server_port=25 ''
}

# rcpt IP SENDER RCPT [INSTANCE]: an RCPT request.
rcpt() {
	req RCPT "$@"
}

# policy_at SECONDS [OPTIONS...]: the policy command at a clock, with the
# test's config; requests on stdin.
policy_at() {
	GREYLIST_NOW=$1 "$GREYLIST_BIN" -c "$CONF" "${@:2}" policy
}

# assert_reply TEXT: after run --separate-stderr, stdout is the one line
# TEXT and stderr is empty.
assert_reply() {
	assert_output "$1"
	assert_equal "${#lines[@]}" 1
	assert_equal "$stderr" ''
}

# assert_error: after run --separate-stderr on exit 2, stdout is empty and
# stderr is one line starting "greylist: ".
assert_error() {
	assert_equal "$output" ''
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "$stderr" '^greylist: .'
}

# assert_config_error LINE: a config error naming the test's config file
# and LINE, and no database created.
assert_config_error() {
	local want="greylist: $CONF: line $1: "
	assert_error
	assert_equal "${stderr:0:${#want}}" "$want"
	assert [ "${#stderr}" -gt "${#want}" ]
	assert [ ! -e "$DB" ]
}

# as USER CMD...: CMD as USER with their own groups and a bare environment.
as() {
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$u" --init-groups -- \
		env -i PATH=/usr/bin:/bin "$@"
}

# accounts_gone USERS GROUPS: those of the system users (with their home
# directories) and groups, each list space-separated, that exist are
# removed: the accounts t/priv.bats and t/doctor.bats make for themselves.
accounts_gone() {
	local a
	for a in $1; do
		! id "$a" >/dev/null 2>&1 || userdel -r "$a" 2>/dev/null
	done
	for a in $2; do
		! getent group "$a" >/dev/null || groupdel "$a"
	done
}

# wait_socket PATH PID: waits (at most 10 s) until the server PID listens
# on the Unix socket PATH; fails if it exits first.
wait_socket() {
	local tries=0
	until [ -S "$1" ]; do
		kill -0 "$2" 2>/dev/null || return 1
		tries=$((tries + 1))
		[ "$tries" -le 1000 ] || return 1
		sleep 0.01
	done
}

# hang_ready: HANG_SO, a library whose pwrite never returns, as a log write
# behind a mutex that a killed process left held. Skips unless the store
# is Berkeley DB and there is a C compiler.
hang_ready() {
	bdb_only "a log write that hangs"
	command -v cc >/dev/null || skip "no C compiler"
	cat >"$BATS_TEST_TMPDIR/hang.c" <<-'EOF'
	#define _GNU_SOURCE
	#include <sys/types.h>
	#include <unistd.h>
	ssize_t pwrite(int fd, const void *b, size_t n, off_t o)
	{
		(void)fd; (void)b; (void)n; (void)o;
		for (;;)
			pause();
	}
	ssize_t pwrite64(int fd, const void *b, size_t n, off64_t o)
	{
		return pwrite(fd, b, n, (off_t)o);
	}
	EOF
	HANG_SO=$BATS_TEST_TMPDIR/hang.so
	cc -shared -fPIC -o "$HANG_SO" "$BATS_TEST_TMPDIR/hang.c"
}

# hung ARGS...: the binary at T0 with HANG_SO (hang_ready) preloaded: its
# first log write never returns.
hung() {
	env LD_PRELOAD="$HANG_SO" ASAN_OPTIONS=verify_asan_link_order=0 \
		GREYLIST_NOW="$T0" "$GREYLIST_BIN" "$@"
}
