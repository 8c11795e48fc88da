#!/usr/bin/env bats
# The Redis backend against real servers from Debian's redis-server
# package: several MX hosts sharing one Redis, exact counts under
# concurrency, expiry by Redis TTLs, the commit script, a killed, a frozen
# and a read-only server, a Sentinel failover, and passwords. Every server
# is started by the test itself, on a Unix socket or a loopback port under
# the test's temporary directory, with appendonly yes, and stopped in
# teardown. Waits block on the server (redis-cli ping in a bounded loop,
# a Sentinel's pub/sub for a failover); nothing sleeps.

load test_helper

export TZ=UTC

PREFIX=gltest:
MASTER=gltest
R2=carol@example.net

setup() {
	BG=()
	command -v redis-server >/dev/null 2>&1 ||
		skip "redis-server is not installed (Debian: redis-server)"
	command -v redis-cli >/dev/null 2>&1 ||
		skip "redis-cli is not installed (Debian: redis-tools)"
	unset GREYLIST_NOW
	NEXT_PORT=$((20000 + (($$ % 400) * 25 + BATS_TEST_NUMBER * 7) % 10000))
}

# Everything this test started: background helpers by the pids it kept,
# servers (and any child they forked) by their working directory, which
# each server's --dir put under this test's temporary directory. A test
# that failed first shows the end of each server's log.
teardown() {
	local pid dir
	if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
		for dir in "$BATS_TEST_TMPDIR"/*/log; do
			[ -f "$dir" ] || continue
			echo "--- ${dir#"$BATS_TEST_TMPDIR"/}"
			tail -n 20 "$dir"
		done
	fi
	for pid in "${BG[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for dir in /proc/[0-9]*; do
		case $(readlink "$dir/cwd" 2>/dev/null) in
		"$BATS_TEST_TMPDIR"/*)
			pid=${dir#/proc/}
			kill -CONT "$pid" 2>/dev/null || true
			kill -KILL "$pid" 2>/dev/null || true
			;;
		esac
	done
}

# ---- servers ----

# free_port VAR: sets VAR to a loopback port nobody listens on, from a
# range that depends on this run and test, moving on with each call.
free_port() {
	local p
	for ((p = NEXT_PORT; p < NEXT_PORT + 500; p++)); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			NEXT_PORT=$((p + 1))
			printf -v "$1" '%s' "$p"
			return 0
		fi
	done
	fail "no free loopback port from $NEXT_PORT"
}

# redis_wait ADDR...: redis-cli's address arguments (-s SOCK or -p PORT);
# returns once the server answers PING (or asks for a password), fails
# after a bounded number of tries.
redis_wait() {
	local i out
	for ((i = 0; i < 3000; i++)); do
		out=$(redis-cli "$@" ping 2>&1) || true
		case $out in
		PONG | NOAUTH*) return 0 ;;
		esac
	done
	fail "redis-server at $* did not answer: $out"
}

# redis_start NAME [ARGS...]: a redis-server in $BATS_TEST_TMPDIR/NAME,
# on the Unix socket NAME/sock (ARGS may add --port N), append-only with
# fsync every second and no RDB snapshots; returns once it answers.
redis_start() {
	local dir=$BATS_TEST_TMPDIR/$1
	mkdir -p "$dir"
	redis-server --port 0 --bind 127.0.0.1 --unixsocket "$dir/sock" \
		--unixsocketperm 700 --dir "$dir" --appendonly yes \
		--appendfsync everysec --save '' --repl-diskless-sync-delay 0 \
		--daemonize yes \
		--pidfile "$dir/pid" --logfile "$dir/log" "${@:2}" >/dev/null ||
		fail "redis-server $1 did not start"
	redis_wait -s "$dir/sock"
}

# sentinel_start CONF PORT: a Sentinel daemon from CONF; returns once it
# answers on PORT.
sentinel_start() {
	redis-server "$1" --sentinel >/dev/null || fail "the Sentinel of $1 did not start"
	redis_wait -p "$2"
}

# redis_pid NAME: the pid of server NAME.
redis_pid() {
	cat "$BATS_TEST_TMPDIR/$1/pid"
}

# gone PID: returns once PID has exited (or is a zombie), so that its
# sockets are closed.
gone() {
	local i state
	for ((i = 0; i < 100000; i++)); do
		state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 0
		case $state in
		'' | Z | X) return 0 ;;
		esac
	done
	fail "process $1 did not exit"
}

# redis_kill NAME: SIGKILL server NAME and wait until it is gone.
redis_kill() {
	local pid
	pid=$(redis_pid "$1")
	kill -KILL "$pid"
	gone "$pid"
}

# synced NAME: returns once server "replica" has applied every write that
# server NAME, its primary, had made when asked. (WAIT would not do: it waits only for the
# writes of its own connection, and a new one has made none.)
synced() {
	local want got i
	want=$(rcli "$1" INFO replication |
		sed -n 's/^master_repl_offset:\([0-9]*\).*/\1/p')
	[ -n "$want" ] || fail "no replication offset from $1"
	for ((i = 0; i < 3000; i++)); do
		got=$(rcli replica INFO replication |
			sed -n 's/^slave_repl_offset:\([0-9]*\).*/\1/p')
		[ -z "$got" ] || [ "$got" -lt "$want" ] || return 0
	done
	fail "the replica applied ${got:-nothing} of $want bytes of $1's writes"
}

# rcli NAME ARGS...: redis-cli against server NAME's socket.
rcli() {
	redis-cli -s "$BATS_TEST_TMPDIR/$1/sock" "${@:2}"
}

# mx_conf NAME SERVER [LINES...]: the greylist config of one MX host,
# $BATS_TEST_TMPDIR/NAME.conf, using the Redis at SERVER under $PREFIX.
mx_conf() {
	printf '%s\n' "database $BATS_TEST_TMPDIR/db-$1" 'backend redis' \
		"redis_server $2" "redis_prefix $PREFIX" "${@:3}" \
		>"$BATS_TEST_TMPDIR/$1.conf"
}

# via NAME SECONDS IP SENDER RCPT: one check through MX NAME's config.
via() {
	GREYLIST_NOW=$2 "$GREYLIST_BIN" -c "$BATS_TEST_TMPDIR/$1.conf" check \
		--ip="$3" --sender="$4" --rcpt="$5"
}

# one_redis [LINES...]: server "redis" on a socket; CONF is MX "a" on it.
one_redis() {
	redis_start redis
	mx_conf a "unix:$BATS_TEST_TMPDIR/redis/sock" "$@"
	CONF=$BATS_TEST_TMPDIR/a.conf
}

# timed ARGS...: `run --separate-stderr ARGS...`, and MS its wall time in
# milliseconds.
timed() {
	local t0=${EPOCHREALTIME/./} t1
	run --separate-stderr "$@"
	t1=${EPOCHREALTIME/./}
	MS=$(((t1 - t0) / 1000))
}

# ---- what the server holds ----

# walk_lua BODY: a Lua script that runs BODY for every key k under
# ARGV[1], BODY adding lines to the table out, and returns out sorted.
# Keys hold NUL bytes, which no shell argument can carry, so the server
# walks them itself.
walk_lua() {
	printf '%s\n' 'local out, cur = {}, "0"' 'repeat' \
		'  local r = redis.call("SCAN", cur, "MATCH", ARGV[1] .. "*", "COUNT", 1000)' \
		'  cur = r[1]' '  for _, k in ipairs(r[2]) do' "$1" '  end' \
		'until cur == "0"' 'table.sort(out)' 'return out'
}

# Lists "KEY TTL" for every key under ARGV[1], the prefix cut off, NUL
# bytes shown as '|' and other control bytes as \xNN (a counter shard's
# byte may be a newline), sorted.
TTL_LUA=$(walk_lua '
    local name = string.gsub(string.sub(k, #ARGV[1] + 1), "%z", "|")
    name = string.gsub(name, "%c", function(c)
      return string.format("\\x%02x", string.byte(c)) end)
    out[#out + 1] = name .. " " .. redis.call("TTL", k)')

# Every key under ARGV[1] with its type, value and whether it expires,
# quoted (%q), sorted: a snapshot to compare.
DUMP_LUA=$(walk_lua '
    local t, v = redis.call("TYPE", k)["ok"], ""
    if t == "string" then v = redis.call("GET", k)
    elseif t == "zset" then v = table.concat(redis.call("ZRANGE", k, 0, -1), ",")
    end
    local ttl = redis.call("TTL", k) > 0 and "expires" or "persists"
    out[#out + 1] = string.format("%q %s %q %s", k, t, v, ttl)')

# ttls NAME: "KEY TTL" lines of server NAME under $PREFIX.
ttls() {
	rcli "$1" EVAL "$TTL_LUA" 0 "$PREFIX"
}

# ttl_of NAME PATTERN: the TTL of the one key under $PREFIX matching the
# extended regex PATTERN (NULs shown as '|'); fails unless exactly one.
ttl_of() {
	local out
	out=$(ttls "$1" | grep -E "$2") || fail "no key matching $2 in: $(ttls "$1")"
	[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "more than one key matching $2: $out"
	echo "${out##* }"
}

# assert_between VALUE LOW HIGH
assert_between() {
	if [ "$1" -lt "$2" ] || [ "$1" -gt "$3" ]; then
		fail "expected $2 <= $1 <= $3"
	fi
}

# csv_field CONFIG STATE FIELD: field FIELD (1-based) of the one row of
# list --csv in STATE through CONFIG.
csv_field() {
	local rows
	rows=$("$GREYLIST_BIN" -c "$1" list --csv --state="$2" | sed 1d)
	[ "$(printf '%s\n' "$rows" | wc -l)" -eq 1 ] || fail "expected one $2 row: $rows"
	printf '%s\n' "$rows" | cut -d, -f"$3"
}

# stat_of CONFIG NAME: the value of NAME in stats --csv through CONFIG.
stat_of() {
	"$GREYLIST_BIN" -c "$1" stats --csv | sed -n "s/^$2,//p"
}

# ---- two MX hosts ----

@test "two MX hosts share one Redis: deferred through A, passed through B after the embargo, whitelisted for A" {
	local port
	free_port port
	redis_start redis --port "$port"
	mx_conf a "unix:$BATS_TEST_TMPDIR/redis/sock"
	mx_conf b "127.0.0.1:$port"
	run -1 --separate-stderr via a "$T0" "$IP" "$S" "$R"
	assert_reply "$DEFER5"
	run -0 --separate-stderr via b $((T0 + 312)) "$IP" "$S" "$R"
	assert_reply 'X-Greylist: delayed 312 seconds'
	run -0 --separate-stderr via a $((T0 + 400)) 192.0.2.77 "$S" "$R2"
	assert_reply 'X-Greylist: auto-whitelisted (192.0.2.0/24, example.org)'
}

# race SECONDS: 32 checks of the standard triplet at SECONDS, 16 through
# MX a and 16 through MX b, let go together; out.N, err.N and rc.N in
# $BATS_TEST_TMPDIR/race hold what each did.
race() {
	local dir=$BATS_TEST_TMPDIR/race i mx gate
	rm -rf "$dir"
	mkdir "$dir"
	exec {gate}>"$dir/gate"
	flock -x "$gate"
	for ((i = 0; i < 32; i++)); do
		mx=a
		[ $((i % 2)) -eq 0 ] || mx=b
		(
			flock -s "$dir/gate" true
			if via "$mx" "$1" "$IP" "$S" "$R" >"$dir/out.$i" \
				2>"$dir/err.$i"; then
				echo 0 >"$dir/rc.$i"
			else
				echo $? >"$dir/rc.$i"
			fi
		) &
	done
	flock -u "$gate"
	exec {gate}>&-
	wait
}

# race_tally: "COUNT EXIT OUTPUT" lines, one per distinct outcome, in the
# order of "EXIT OUTPUT".
race_tally() {
	local dir=$BATS_TEST_TMPDIR/race i
	for ((i = 0; i < 32; i++)); do
		echo "$(cat "$dir/rc.$i") $(cat "$dir/out.$i" "$dir/err.$i")"
	done | sort | uniq -c | sed 's/^ *//'
}

@test "32 concurrent first attempts through two MX hosts are all deferred and counted exactly" {
	local port
	free_port port
	redis_start redis --port "$port"
	mx_conf a "unix:$BATS_TEST_TMPDIR/redis/sock"
	mx_conf b "127.0.0.1:$port"
	race "$T0"
	run race_tally
	assert_output "32 1 $DEFER5"
	run csv_field "$BATS_TEST_TMPDIR/a.conf" pending 8
	assert_output 32
	run stat_of "$BATS_TEST_TMPDIR/b.conf" deferred
	assert_output 32
}

@test "32 concurrent retries after the embargo through two MX hosts pass once as delayed and otherwise as passed before" {
	local port
	free_port port
	redis_start redis --port "$port"
	mx_conf a "unix:$BATS_TEST_TMPDIR/redis/sock"
	mx_conf b "127.0.0.1:$port"
	run -1 via a "$T0" "$IP" "$S" "$R"
	race $((T0 + EMBARGO))
	run race_tally
	assert_output "31 0 X-Greylist: auto-whitelisted (passed before)
1 0 X-Greylist: delayed 300 seconds"
	run stat_of "$BATS_TEST_TMPDIR/a.conf" passed_delay
	assert_output 1
	run stat_of "$BATS_TEST_TMPDIR/a.conf" passed_known
	assert_output 31
}

# ---- expiry ----

@test "a pending triplet's key expires after the retry window" {
	one_redis
	run -1 check_at "$T0" "$IP" "$S" "$R"
	run ttl_of redis '^T'
	assert_success
	assert_between "$output" $((RETRY_WINDOW - 5)) "$RETRY_WINDOW"
	# an early retry counts from the first attempt, not from itself
	run -1 check_at $((T0 + 100)) "$IP" "$S" "$R"
	run ttl_of redis '^T'
	assert_between "$output" $((RETRY_WINDOW - 105)) $((RETRY_WINDOW - 100))
}

@test "a passed triplet and its tuplet expire after the whitelist lifetime" {
	one_redis
	run -1 check_at "$T0" "$IP" "$S" "$R"
	run -0 check_at $((T0 + EMBARGO)) "$IP" "$S" "$R"
	run ttl_of redis '^T'
	assert_between "$output" $((LIFETIME - 5)) "$LIFETIME"
	run ttl_of redis '^W'
	assert_between "$output" $((LIFETIME - 5)) "$LIFETIME"
}

@test "exemptions, counters and the format record never expire" {
	one_redis
	run -0 gl exempt add @example.com 198.51.100.0/24
	run -1 check_at "$T0" "$IP" "$S" "$R"
	run ttls redis
	assert_success
	assert_line 'E@example.com -1'
	assert_line 'N198.51.100.0/24 -1'
	assert_line 'V -1'
	assert_line 'idx -1'
	assert_line --regexp '^C.* -1$'
	refute_line --regexp '^[CENVi].* [0-9]+$'
}

@test "purge on Redis says expiry is automatic and changes nothing" {
	one_redis
	run -0 gl exempt add @example.com
	run -1 check_at "$T0" "$IP" "$S" "$R"
	run -1 check_at "$T0" 192.0.2.9 "$S" "$R2"
	run -0 check_at $((T0 + EMBARGO)) "$IP" "$S" "$R"
	rcli redis EVAL "$DUMP_LUA" 0 "$PREFIX" >"$BATS_TEST_TMPDIR/before"
	# long after every entry's lifetime: Berkeley DB would delete them all
	run --separate-stderr -0 at $((T0 + 400 * 86400)) purge
	assert_reply 'nothing to purge: the redis backend expires entries by itself'
	rcli redis EVAL "$DUMP_LUA" 0 "$PREFIX" >"$BATS_TEST_TMPDIR/after"
	run cmp "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after"
	assert_success
	[ "$(wc -l <"$BATS_TEST_TMPDIR/after")" -ge 6 ]
}

# ---- the commit script ----

# script_source: the commit script as lib/store_redis.c spells it (the C
# string literals of rds_script, joined and unescaped).
script_source() {
	python3 - "${GREYLIST_SRCDIR:-$BATS_TEST_DIRNAME/..}/lib/store_redis.c" <<'PY'
import codecs, re, sys
src = open(sys.argv[1], encoding="utf-8").read()
body = re.search(r"rds_script\[\] =(.*?);\n", src, re.S).group(1)
parts = re.findall(r'"((?:[^"\\]|\\.)*)"', body)
sys.stdout.write(codecs.decode("".join(parts), "unicode_escape"))
PY
}

@test "the SHA1 that lib/store_redis.c gives the commit script is the one SCRIPT LOAD computes" {
	one_redis
	local src=${GREYLIST_SRCDIR:-$BATS_TEST_DIRNAME/..}/lib/store_redis.c sha
	sha=$(sed -n 's/^#define RDS_SHA[[:space:]]*"\([0-9a-f]*\)".*/\1/p' "$src")
	[ "${#sha}" -eq 40 ] || fail "no RDS_SHA in $src"
	script_source >"$BATS_TEST_TMPDIR/script.lua"
	run rcli redis -x SCRIPT LOAD <"$BATS_TEST_TMPDIR/script.lua"
	assert_output "$sha"
}

@test "every commit after the first reaches the server as EVALSHA of the script it loaded" {
	one_redis
	local fifo=$BATS_TEST_TMPDIR/monitor line sha mon
	mkfifo "$fifo"
	rcli redis SCRIPT FLUSH
	rcli redis MONITOR >"$fifo" &
	BG+=($!)
	exec {mon}<"$fifo"
	read -r -t 10 line <&"$mon"
	assert_equal "$line" OK
	run -1 check_at "$T0" "$IP" "$S" "$R"
	run -1 check_at "$T0" "$IP" "$S" "$R2"
	run -0 check_at $((T0 + EMBARGO)) "$IP" "$S" "$R"
	rcli redis ECHO end-of-test >/dev/null
	: >"$BATS_TEST_TMPDIR/commands"
	while read -r -t 10 line <&"$mon"; do
		case $line in
		*'"ECHO" "end-of-test"'*) break ;;
		esac
		printf '%s\n' "$line" >>"$BATS_TEST_TMPDIR/commands"
	done
	exec {mon}<&-
	# each commit as "EVAL" or "EVALSHA SHA1", in order
	run sed -n -e 's/^[0-9.]* \[[^]]*\] "EVAL" .*/EVAL/p' \
		-e 's/^[0-9.]* \[[^]]*\] "EVALSHA" "\([0-9a-f]*\)".*/EVALSHA \1/p' \
		"$BATS_TEST_TMPDIR/commands"
	# the format record, then three checks: one EVALSHA that met
	# NOSCRIPT (the cache was flushed) and its EVAL, then EVALSHA only
	[ "${#lines[@]}" -ge 5 ] || fail "expected 5 commands, saw: $output"
	[ "$(grep -c '^EVAL$' <<<"$output")" -eq 1 ] ||
		fail "expected a single EVAL, saw: $output"
	[ "${lines[1]}" = EVAL ] || fail "expected EVALSHA, EVAL, EVALSHA...: $output"
	sha=$(sed -n 's/^EVALSHA //p' <<<"$output" | sort -u)
	[ "$(wc -l <<<"$sha")" -eq 1 ] || fail "EVALSHA of several SHA1s: $sha"
	# the server holds that script: the one EVAL loaded, nothing else
	run rcli redis SCRIPT EXISTS "$sha"
	assert_output 1
}

# ---- a dead, a frozen and a read-only server ----

@test "a check fails open within a second when redis-server has been SIGKILLed" {
	one_redis
	run -1 check_at "$T0" "$IP" "$S" "$R"
	redis_kill redis
	timed -2 check_at $((T0 + 10)) "$IP" "$S" "$R2"
	assert_error
	assert_regex "$stderr" '^greylist: redis'
	[ "$MS" -lt 1000 ] || fail "took $MS ms"
}

@test "every triplet acknowledged before a SIGKILL mid-run is remembered after redis-server restarts from its append-only file" {
	one_redis
	local fifo=$BATS_TEST_TMPDIR/progress log=$BATS_TEST_TMPDIR/acks i k rc n=0 acked=0 failed=0
	mkfifo "$fifo"
	(
		for ((i = 0; i < 150; i++)); do
			if check_at "$T0" "$IP" "sender$i@example.org" "$R" \
				>/dev/null 2>&1; then
				echo "$i 0" >>"$log"
			else
				echo "$i $?" >>"$log"
			fi
			echo "$i"
		done
	) >"$fifo" &
	BG+=($!)
	while read -r i; do
		n=$((n + 1))
		[ "$n" -ne 60 ] || redis_kill redis
	done <"$fifo"
	wait
	while read -r i rc; do
		case $rc in
		1) acked=$((acked + 1)) ;;
		2) failed=$((failed + 1)) ;;
		*) fail "check $i exited $rc, not 0, 1 or 2 (141: SIGPIPE)" ;;
		esac
	done <"$log"
	[ "$acked" -ge 60 ] && [ "$failed" -ge 80 ] ||
		fail "$acked acknowledged, $failed failed: the kill was not mid-run"
	redis_start redis
	while read -r k rc; do
		[ "$rc" -eq 1 ] || continue
		run -1 --separate-stderr check_at $((T0 + 60)) "$IP" "sender$k@example.org" "$R"
		assert_reply "$DEFER4"
	done <"$log"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" new@example.org "$R"
	assert_reply "$DEFER5"
}

@test "a frozen redis-server fails a check open within about redis_timeout" {
	one_redis 'redis_timeout 200ms'
	run -1 check_at "$T0" "$IP" "$S" "$R"
	kill -STOP "$(redis_pid redis)"
	timed -2 check_at $((T0 + 10)) "$IP" "$S" "$R2"
	kill -CONT "$(redis_pid redis)"
	assert_error
	assert_regex "$stderr" '^greylist: redis'
	# above the default redis_timeout (500ms) would mean it was ignored
	assert_between "$MS" 150 480
	run -1 --separate-stderr check_at $((T0 + 10)) "$IP" "$S" "$R2"
	assert_reply "$DEFER5"
}

# replica: server "primary" on a loopback port and server "replica"
# replicating it; MX "p" uses the primary and MX "r" the replica (CONF),
# both with LINES. Returns once the replica holds what the primary does.
replica() {
	local port i
	free_port port
	redis_start primary --port "$port"
	redis_start replica --replicaof 127.0.0.1 "$port"
	mx_conf p "unix:$BATS_TEST_TMPDIR/primary/sock" "$@"
	mx_conf r "unix:$BATS_TEST_TMPDIR/replica/sock" "$@"
	CONF=$BATS_TEST_TMPDIR/r.conf
	# the primary writes the format record; the replica must have it
	run -1 via p "$T0" 192.0.2.200 "$S" "$R"
	synced primary
}

@test "a new triplet through a read-only replica fails open naming READONLY and the replica" {
	replica
	timed -2 check_at "$T0" "$IP" "$S" "$R"
	assert_error
	assert_regex "$stderr" 'READONLY'
	assert_regex "$stderr" 'replica'
	[ "$MS" -lt 1000 ] || fail "took $MS ms"
}

@test "an exempt client still passes through a read-only replica" {
	replica 'no_delay 198.51.100.0/24'
	run -0 --separate-stderr check_at "$T0" 198.51.100.7 "$S" "$R"
	assert_reply 'X-Greylist: exempt (no_delay 198.51.100.0/24)'
}

# ---- Sentinel ----

# sentinels [LINES...]: server "primary" and its replica "replica" on
# loopback ports, and three Sentinels (ports SP[0..2]) monitoring them as
# $MASTER with quorum 2, each told of the other two and of the replica so
# that none waits for discovery; CONF uses redis_sentinels (the three, in
# order) and redis_master, plus LINES.
sentinels() {
	local i j dir
	free_port PP
	free_port RP
	SP=()
	for i in 0 1 2; do
		free_port "SP[$i]"
	done
	redis_start primary --port "$PP"
	redis_start replica --port "$RP" --replicaof 127.0.0.1 "$PP"
	for ((i = 0; i < 3000; i++)); do
		rcli replica INFO replication | grep -q '^master_link_status:up' && break
	done
	[ "$i" -lt 3000 ] || fail "the replica did not sync"
	for i in 0 1 2; do
		dir=$BATS_TEST_TMPDIR/sentinel$i
		mkdir -p "$dir"
		{
			printf '%s\n' "port ${SP[$i]}" 'bind 127.0.0.1' "dir $dir" \
				'daemonize yes' "pidfile $dir/pid" "logfile $dir/log" \
				"sentinel myid $(printf '%040d' $((i + 1)))" \
				"sentinel monitor $MASTER 127.0.0.1 $PP 2" \
				"sentinel down-after-milliseconds $MASTER 1000" \
				"sentinel failover-timeout $MASTER 5000" \
				"sentinel parallel-syncs $MASTER 1" \
				"sentinel known-replica $MASTER 127.0.0.1 $RP"
			for j in 0 1 2; do
				[ "$j" -eq "$i" ] ||
					echo "sentinel known-sentinel $MASTER 127.0.0.1 ${SP[$j]} $(printf '%040d' $((j + 1)))"
			done
		} >"$dir/sentinel.conf"
		sentinel_start "$dir/sentinel.conf" "${SP[$i]}"
	done
	CONF=$BATS_TEST_TMPDIR/sentinel.conf
	printf '%s\n' "database $BATS_TEST_TMPDIR/db" 'backend redis' \
		"redis_sentinels 127.0.0.1:${SP[0]} 127.0.0.1:${SP[1]} 127.0.0.1:${SP[2]}" \
		"redis_master $MASTER" "redis_prefix $PREFIX" "$@" >"$CONF"
}

@test "checks continue through the new primary after a Sentinel failover and keep the triplets stored before it" {
	sentinels
	local k fifo=$BATS_TEST_TMPDIR/switch line sub
	# (not "i": bats 1.8's run sets a global i)
	for ((k = 0; k < 10; k++)); do
		run -1 --separate-stderr check_at "$T0" "$IP" "sender$k@example.org" "$R"
		assert_reply "$DEFER5"
	done
	synced primary
	# the first Sentinel of the list is the one greylist asks first
	mkfifo "$fifo"
	timeout 90 redis-cli -p "${SP[0]}" --csv SUBSCRIBE +switch-master >"$fifo" &
	BG+=($!)
	exec {sub}<"$fifo"
	while read -r -t 10 line <&"$sub" && [[ $line != '"subscribe"'* ]]; do :; done
	[[ $line == '"subscribe"'* ]] || fail "no subscription: $line"
	redis_kill primary
	# The Sentinels notice the death after down-after-milliseconds and
	# elect a leader that promotes the replica. Three that start together
	# may split their votes and wait out twice failover-timeout before
	# the next election; after 20 s the first Sentinel is also told to
	# fail over at once (the operator's SENTINEL FAILOVER), every second
	# until it takes the request. Either way one +switch-master comes.
	local asked= out=
	for ((k = 0; k < 60; k++)); do
		if [ "$k" -ge 20 ] && [ -z "$asked" ]; then
			out=$(redis-cli -p "${SP[0]}" SENTINEL FAILOVER "$MASTER" 2>&1) || true
			[ "$out" != OK ] || asked=yes
		fi
		if read -r -t 1 line <&"$sub" && [[ $line == '"message"'* ]]; then
			break
		fi
	done
	exec {sub}<&-
	[[ $line == '"message"'* ]] ||
		fail "no +switch-master in 60 s (SENTINEL FAILOVER said: ${out:-nothing yet})"
	assert_equal "$line" "\"message\",\"+switch-master\",\"$MASTER 127.0.0.1 $PP 127.0.0.1 $RP\""
	for ((k = 0; k < 10; k++)); do
		run -1 --separate-stderr check_at $((T0 + 60)) "$IP" "sender$k@example.org" "$R"
		assert_reply "$DEFER4"
	done
	run -0 --separate-stderr check_at $((T0 + EMBARGO)) "$IP" sender0@example.org "$R"
	assert_reply 'X-Greylist: delayed 300 seconds'
	run -1 --separate-stderr check_at $((T0 + EMBARGO)) "$IP" new@example.com "$R"
	assert_reply "$DEFER5"
	run rcli replica ROLE
	assert_line --index 0 master
}

@test "a Sentinel that is down is skipped for the next one in the list" {
	sentinels
	redis_kill sentinel0
	run -1 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_reply "$DEFER5"
	run -0 --separate-stderr check_at $((T0 + EMBARGO)) "$IP" "$S" "$R"
	assert_reply 'X-Greylist: delayed 300 seconds'
}

@test "a frozen Sentinel is skipped after redis_timeout" {
	sentinels 'redis_timeout 200ms'
	kill -STOP "$(redis_pid sentinel0)"
	timed -1 check_at "$T0" "$IP" "$S" "$R"
	kill -CONT "$(redis_pid sentinel0)"
	assert_reply "$DEFER5"
	assert_between "$MS" 150 480
}

@test "a check fails open with a clear message when no Sentinel answers" {
	local p0 p1
	free_port p0
	free_port p1
	CONF=$BATS_TEST_TMPDIR/none.conf
	printf '%s\n' "database $BATS_TEST_TMPDIR/db" 'backend redis' \
		"redis_sentinels 127.0.0.1:$p0 127.0.0.1:$p1" \
		"redis_master $MASTER" >"$CONF"
	timed -2 check_at "$T0" "$IP" "$S" "$R"
	assert_error
	assert_regex "$stderr" "^greylist: redis.*127\.0\.0\.1:($p0|$p1)"
	[ "$MS" -lt 1000 ] || fail "took $MS ms"
}

# ---- passwords ----

# locked_redis [LINE...]: a Redis server that wants the password
# the-right-one, and CONF for it with the config LINEs added.
locked_redis() {
	redis_start redis --requirepass the-right-one
	mx_conf a "unix:$BATS_TEST_TMPDIR/redis/sock" "$@"
	CONF=$BATS_TEST_TMPDIR/a.conf
}

@test "a wrong Redis password fails a check open with a clear message" {
	printf '%s\n' 'a-wrong-one' >"$BATS_TEST_TMPDIR/wrong"
	locked_redis "redis_password_file $BATS_TEST_TMPDIR/wrong"
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_error
	assert_regex "$stderr" '^greylist: redis: WRONGPASS'
	refute_regex "$stderr" 'a-wrong-one|the-right-one'
}

@test "a server that wants a password fails a check open when none is configured" {
	locked_redis
	run -2 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_error
	assert_regex "$stderr" '^greylist: redis: NOAUTH'
}

@test "the password from redis_password_file opens the server" {
	printf '%s\n' 'the-right-one' >"$BATS_TEST_TMPDIR/right"
	locked_redis "redis_password_file $BATS_TEST_TMPDIR/right"
	run -1 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_reply "$DEFER5"
	run -0 --separate-stderr check_at $((T0 + EMBARGO)) "$IP" "$S" "$R"
	assert_reply 'X-Greylist: delayed 300 seconds'
}

# ---- the examples ----

@test "the examples in share/redis (redis.conf, sentinel.conf, greylist.conf) work together" {
	local share=${GREYLIST_SRCDIR:-$BATS_TEST_DIRNAME/..}/share/redis
	local pass dir name k pp rp port
	local -a sp extra
	pass=$(sed -n 's/^requirepass //p' "$share/redis.conf")
	[ -n "$pass" ] || fail "no requirepass in $share/redis.conf"
	printf '%s\n' "$pass" >"$BATS_TEST_TMPDIR/redis.password"
	free_port pp
	free_port rp
	for k in 0 1 2; do
		free_port "sp[$k]"
	done
	for name in primary replica; do
		dir=$BATS_TEST_TMPDIR/$name
		mkdir -p "$dir"
		port=$pp
		extra=()
		if [ "$name" = replica ]; then
			port=$rp
			extra=(--replicaof 127.0.0.1 "$pp")
		fi
		redis-server "$share/redis.conf" --bind 127.0.0.1 --port "$port" \
			--dir "$dir" --unixsocket "$dir/sock" --daemonize yes \
			--pidfile "$dir/pid" --logfile "$dir/log" "${extra[@]}" \
			>/dev/null || fail "redis-server $name did not start"
		redis_wait -s "$dir/sock"
	done
	run env REDISCLI_AUTH="$pass" redis-cli -s "$BATS_TEST_TMPDIR/primary/sock" \
		CONFIG GET appendonly
	assert_output "appendonly
yes"
	for k in 0 1 2; do
		dir=$BATS_TEST_TMPDIR/sentinel$k
		mkdir -p "$dir"
		sed -e 's/^bind .*/bind 127.0.0.1/' -e "s/^port .*/port ${sp[$k]}/" \
			-e "s|^pidfile .*|pidfile $dir/pid|" \
			-e "s|^logfile .*|logfile $dir/log|" -e "s|^dir .*|dir $dir|" \
			-e "s/ 10\.0\.0\.11 6379 / 127.0.0.1 $pp /" \
			"$share/sentinel.conf" >"$dir/sentinel.conf"
		sentinel_start "$dir/sentinel.conf" "${sp[$k]}"
	done
	run redis-cli -p "${sp[1]}" SENTINEL get-master-addr-by-name greylist
	assert_output "127.0.0.1
$pp"
	CONF=$BATS_TEST_TMPDIR/mx.conf
	{
		echo "database $BATS_TEST_TMPDIR/db"
		sed -e "s/10\.0\.0\.11:26379 10\.0\.0\.12:26379 10\.0\.0\.13:26379/127.0.0.1:${sp[0]} 127.0.0.1:${sp[1]} 127.0.0.1:${sp[2]}/" \
			-e "s|/etc/greylist/redis.password|$BATS_TEST_TMPDIR/redis.password|" \
			"$share/greylist.conf"
	} >"$CONF"
	grep -q "^redis_sentinels.*127.0.0.1:${sp[2]}" "$CONF" ||
		fail "the example's redis_sentinels line changed: $(cat "$CONF")"
	run -1 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_reply "$DEFER5"
	run -0 --separate-stderr check_at $((T0 + EMBARGO)) "$IP" "$S" "$R"
	assert_reply 'X-Greylist: delayed 300 seconds'
	run env REDISCLI_AUTH="$pass" redis-cli -s "$BATS_TEST_TMPDIR/primary/sock" \
		--scan --pattern 'greylist:*'
	assert_line --regexp '^greylist:T'
}
