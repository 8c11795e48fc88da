#!/usr/bin/env bats
# The client identity (client_identity in greylist.conf(5)): a sender
# whose retries come from other addresses of a pool waits one embargo when
# SPF passed (spf:DOMAIN) or the MTA gave a verified, non-generic host
# name (ptr:DOMAIN); everything else falls back to the network, and
# entries keyed by network, from before or not, are still found.

load test_helper

O1=mail-db5eur01on0044.outbound.protection.outlook.com
O2=mail-eopbgr10051.outbound.protection.outlook.com

# client_of IP HOST [ARGS...]: the client identity a first check from IP
# with host name HOST is recorded under, as the log line names it; each
# call on a database of its own.
client_of() {
	local log dir
	dir=$(mktemp -d "$BATS_TEST_TMPDIR/client.XXXXXX")
	sed -e "s|^database .*|database $dir|" \
		-e "s|^redis_prefix \(.*\):\$|redis_prefix \1${dir##*.}:|" \
		"$CONF" >"$dir.conf"
	log=$(GREYLIST_NOW=$T0 "$GREYLIST_BIN" -v -c "$dir.conf" check \
		--ip="$1" --sender="$S" --rcpt="$R" --host="$2" "${@:3}" \
		2>&1 >/dev/null)
	if [[ $log =~ identity=([^ ]+) ]]; then
		echo "${BASH_REMATCH[1]}"
	elif [[ $log =~ client=([^ ]+) ]]; then
		echo "${BASH_REMATCH[1]}"
	fi
}

# network_rows: the network column of the triplets and tuplets exported.
network_rows() {
	gl export | awk -F, '$1 == "triplet" || $1 == "tuplet" { print $1, $2 }'
}

@test "a pool retrying from another network with the same verified domain passes after one embargo" {
	run -1 check_at "$T0" 40.107.1.5 "$S" "$R" --host="$O1"
	run -0 --separate-stderr check_at $((T0 + EMBARGO)) 52.100.9.7 "$S" "$R" \
		--host="$O2"
	assert_reply 'X-Greylist: delayed 300 seconds (ptr:outlook.com)'
}

@test "after the pool's retry, ptr:outlook.com and the sender domain are auto-whitelisted for any address of it" {
	run -1 check_at "$T0" 40.107.1.5 "$S" "$R" --host="$O1"
	run -0 check_at $((T0 + EMBARGO)) 52.100.9.7 "$S" "$R" --host="$O2"
	run -0 --separate-stderr check_at $((T0 + 400)) 104.47.1.9 "$S" \
		carol@example.net --host=mail-am6eur05on2090.outbound.protection.outlook.com
	assert_reply 'X-Greylist: auto-whitelisted (ptr:outlook.com, example.org)'
	run -0 network_rows
	assert_line 'tuplet ptr:outlook.com'
	refute_line --partial '40.107.1.0/24'
}

@test "the same pool without host names is deferred at each new network" {
	run -1 check_at "$T0" 40.107.1.5 "$S" "$R"
	run -1 --separate-stderr check_at $((T0 + EMBARGO)) 52.100.9.7 "$S" "$R"
	assert_reply "$DEFER5"
}

@test "SPF pass for the sender makes two unrelated networks one client" {
	run -1 check_at "$T0" 198.51.100.7 "$S" "$R" --spf=pass
	run -0 --separate-stderr check_at $((T0 + EMBARGO)) 203.0.113.9 "$S" "$R" \
		--spf=pass
	assert_reply 'X-Greylist: delayed 300 seconds (spf:example.org)'
	run -0 --separate-stderr check_at $((T0 + 400)) 192.0.2.200 \
		bob@example.org carol@example.net --spf=Pass
	assert_reply 'X-Greylist: auto-whitelisted (spf:example.org)'
}

@test "spf comes before ptr, and ptr before the network" {
	run -0 client_of 40.107.1.5 "$O1" --spf=pass
	assert_output 'spf:example.org'
	run -0 client_of 40.107.1.5 "$O1" --spf=softfail
	assert_output 'ptr:outlook.com'
}

@test "a forged sender that fails SPF falls back to the network and waits again at the next one" {
	run -0 client_of 203.0.113.7 '' --spf=fail
	assert_output '203.0.113.0/24'
	run -1 check_at "$T0" 203.0.113.7 "$S" "$R" --spf=fail
	run -1 --separate-stderr check_at $((T0 + EMBARGO)) 198.51.100.7 "$S" \
		"$R" --spf=fail
	assert_reply "$DEFER5"
}

@test "the null sender with SPF pass is the HELO name's registrable domain" {
	run -1 --separate-stderr check_at "$T0" 192.0.2.1 '' "$R" --spf=pass \
		--helo=bounce7.mail.example.co.uk
	run -0 network_rows
	assert_output 'triplet spf:example.co.uk'
}

@test "the null sender with SPF pass and no usable HELO name falls back" {
	run -0 client_of 192.0.2.1 '' --sender= --spf=pass --helo=co.uk
	assert_output '192.0.2.0/24'
}

@test "a name holding the client address in decimal is generic" {
	run -0 client_of 203.0.113.7 dyn-203-0-113-7.example.net
	assert_output '203.0.113.0/24'
	run -0 client_of 203.0.113.7 7.113.0.203.static.example.net
	assert_output '203.0.113.0/24'
	run -0 client_of 203.0.113.7 c203000113007.example.org
	assert_output '203.0.113.0/24'
}

@test "a name holding the client address in hex is generic" {
	run -0 client_of 203.0.113.7 cpe-cb007107.isp.example
	assert_output '203.0.113.0/24'
}

@test "a name with a generic token is generic even when the token is the whole host part" {
	run -0 client_of 203.0.113.7 host-203-0-113-7.example
	assert_output '203.0.113.0/24'
	run -0 client_of 198.51.100.23 pool-a.bb.example.net
	assert_output '198.51.100.0/24'
	run -0 client_of 198.51.100.23 adsl.customer.example.com
	assert_output '198.51.100.0/24'
}

@test "an IPv6 name holding the address's groups is generic" {
	run -0 client_of 2001:db8:5:7::25 2001-db8-5-7-0-0-0-25.example.net
	assert_output '2001:db8:5:7::/64'
	run -0 client_of 2001:db8:5:7::25 mx2.example.net
	assert_output 'ptr:example.net'
}

@test "generic names of one provider do not pool its customers" {
	run -1 check_at "$T0" 203.0.113.7 "$S" "$R" --host=dyn-203-0-113-7.example.net
	run -1 --separate-stderr check_at $((T0 + EMBARGO)) 198.51.100.7 "$S" \
		"$R" --host=dyn-198-51-100-7.example.net
	assert_reply "$DEFER5"
}

@test "a name that is a public suffix, or not verified, falls back to the network" {
	local name
	for name in co.uk github.io com unknown '' 'bad name.example' \
		'a..example.com' "$(printf 'x%.0s' {1..250}).example.com"; do
		run -0 client_of 192.0.2.1 "$name"
		assert_output '192.0.2.0/24'
	done
}

@test "a name under a multi-label public suffix keeps the label before it" {
	run -0 client_of 192.0.2.1 MX1.Mail.Example.CO.UK.
	assert_output 'ptr:example.co.uk'
	run -0 client_of 192.0.2.1 relay.someone.github.io
	assert_output 'ptr:someone.github.io'
}

@test "every identity still waits out the embargo" {
	run -1 check_at "$T0" 40.107.1.5 "$S" "$R" --host="$O1"
	run -1 --separate-stderr check_at $((T0 + 60)) 52.100.9.7 "$S" "$R" \
		--host="$O2"
	assert_reply "$DEFER4"
	run -1 check_at "$T0" 198.51.100.7 "$S" carol@example.net --spf=pass
	run -1 --separate-stderr check_at $((T0 + 299)) 203.0.113.9 "$S" \
		carol@example.net --spf=pass
	assert_reply "${DEFER}00:00:01"
}

@test "client_identity net keys by network only, as before, whatever the MTA gives" {
	conf 'client_identity net'
	run -1 check_at "$T0" 40.107.1.5 "$S" "$R" --host="$O1" --spf=pass
	run -1 --separate-stderr check_at $((T0 + EMBARGO)) 52.100.9.7 "$S" "$R" \
		--host="$O2" --spf=pass
	assert_reply "$DEFER5"
	run -0 --separate-stderr check_at $((T0 + EMBARGO)) 40.107.1.77 "$S" "$R" \
		--host="$O1" --spf=pass
	assert_reply 'X-Greylist: delayed 300 seconds'
	run -0 --separate-stderr check_at $((T0 + 400)) 40.107.1.78 "$S" \
		carol@example.net --host="$O1"
	assert_reply 'X-Greylist: auto-whitelisted (40.107.1.0/24, example.org)'
	run -0 network_rows
	assert_output "triplet 40.107.1.0/24
triplet 52.100.9.0/24
tuplet 40.107.1.0/24"
}

@test "client_identity net writes the same key bytes as before, whatever the MTA gives" {
	bdb_only "reads the keys in greylist.db"
	command -v db5.3_dump >/dev/null || skip "db5.3_dump not installed (db5.3-util)"
	conf 'client_identity net'
	run -1 check_at "$T0" 40.107.1.5 "$S" "$R" --host="$O1" --spf=pass
	run -0 db5.3_dump -p -h "$DB" greylist.db
	assert_line " T40.107.1.0/24\\00$S\\00$R"
	refute_line --partial 'outlook'
	refute_line --partial 'spf:'
}

@test "client_identity ptr net ignores SPF, and spf net ignores host names" {
	conf 'client_identity ptr net'
	run -0 client_of 40.107.1.5 "$O1" --spf=pass
	assert_output 'ptr:outlook.com'
	conf 'client_identity spf, net'
	run -0 client_of 40.107.1.5 "$O1"
	assert_output '40.107.1.0/24'
}

# old_db: a database as the version before client identities left it,
# through its export format: a pending triplet of 192.0.2.0/24 and a
# whitelisted tuplet of 198.51.100.0/24 with example.com.
old_db() {
	gl import <<-EOF
	type,network,sender,recipient,domain,entry,first_seen,last_seen,passed_at,blocked,passes,count
	triplet,192.0.2.0/24,$S,$R,,,$T0,$T0,,1,0,
	tuplet,198.51.100.0/24,,,example.com,,$T0,$T0,,,1,
	EOF
}

@test "a pending triplet stored by network before is found when the retry gives a host name" {
	old_db
	run -0 --separate-stderr check_at $((T0 + EMBARGO)) 192.0.2.9 "$S" "$R" \
		--host=mx.example.org --spf=pass
	assert_reply 'X-Greylist: delayed 300 seconds'
	run -0 network_rows
	assert_line 'triplet 192.0.2.0/24'
	assert_line 'tuplet spf:example.org'
}

@test "a network whitelisted before still passes a client that now has a host name" {
	old_db
	run -0 --separate-stderr check_at $((T0 + 60)) 198.51.100.4 a@example.com \
		"$R" --host=mx.example.com
	assert_reply 'X-Greylist: auto-whitelisted (198.51.100.0/24, example.com)'
}

@test "an early retry from the same network with a host name is early, not new" {
	run -1 check_at "$T0" 192.0.2.9 "$S" "$R"
	run -1 --separate-stderr check_at $((T0 + 60)) 192.0.2.9 "$S" "$R" \
		--host=mx.example.org
	assert_reply "$DEFER4"
}

@test "the log line names the identity the decision used" {
	run -1 check_at "$T0" 40.107.1.5 "$S" "$R" --host="$O1"
	run -0 --separate-stderr at $((T0 + EMBARGO)) -v check --ip=52.100.9.7 \
		--sender="$S" --rcpt="$R" --host="$O2"
	assert_output 'X-Greylist: delayed 300 seconds (ptr:outlook.com)'
	[[ $stderr == *'pass: client=52.100.9.0/24 identity=ptr:outlook.com sender=alice@example.org'*'reason=delayed'* ]]
}

@test "pass with --host whitelists the host's domain" {
	run -0 --separate-stderr at "$T0" pass --ip=40.107.1.5 --sender="$S" \
		--rcpt="$R" --host="$O1"
	assert_output "passed ptr:outlook.com $S $R"
	run -0 --separate-stderr check_at "$T0" 52.100.9.7 "$S" carol@example.net \
		--host="$O2"
	assert_reply 'X-Greylist: auto-whitelisted (ptr:outlook.com, example.org)'
}

@test "spam with --host revokes the host domain's whitelisting, and the network's" {
	run -0 at "$T0" pass --ip=40.107.1.5 --sender="$S" --rcpt="$R" --host="$O1"
	run -0 at "$T0" pass --ip=40.107.1.5 --sender="$S" --rcpt="$R"
	run -0 --separate-stderr at "$T0" spam --ip=40.107.1.5 --sender="$S" \
		--host="$O1"
	assert_output 'revoked 4'
	run -0 network_rows
	assert_output ''
}

@test "list and delete select entries by --client" {
	run -0 at "$T0" pass --ip=40.107.1.5 --sender="$S" --rcpt="$R" --host="$O1"
	run -0 at "$T0" pass --ip=192.0.2.1 --sender="$S" --rcpt="$R"
	run -0 --separate-stderr at "$T0" list --csv --client=PTR:outlook.com
	assert_equal "${#lines[@]}" 3
	assert_line --index 1 --regexp '^passed,ptr:outlook.com,'
	assert_line --index 2 --regexp '^whitelisted,ptr:outlook.com,'
	run -0 --separate-stderr at "$T0" delete --client=ptr:outlook.com
	assert_output 'deleted 2'
	run -0 network_rows
	assert_output 'triplet 192.0.2.0/24
tuplet 192.0.2.0/24'
}

@test "export and import carry spf and ptr identities exactly" {
	run -0 at "$T0" pass --ip=40.107.1.5 --sender="$S" --rcpt="$R" --host="$O1"
	run -0 at "$T0" pass --ip=192.0.2.1 --sender="$S" --rcpt="$R" --spf=pass
	gl export >"$BATS_TEST_TMPDIR/one.csv"
	grep -q '^tuplet,spf:example.org,' "$BATS_TEST_TMPDIR/one.csv"
	CONF=$BATS_TEST_TMPDIR/two.conf
	printf 'database %s\n' "$BATS_TEST_TMPDIR/db2" >"$CONF"
	if [ -n "${GREYLIST_TEST_REDIS:-}" ]; then
		printf '%s\n' 'backend redis' "redis_server $GREYLIST_TEST_REDIS" \
			"redis_prefix t$$.${BATS_TEST_NUMBER}b:" >>"$CONF"
	fi
	run -0 gl import "$BATS_TEST_TMPDIR/one.csv"
	gl export >"$BATS_TEST_TMPDIR/two.csv"
	cmp "$BATS_TEST_TMPDIR/one.csv" "$BATS_TEST_TMPDIR/two.csv"
}

@test "import refuses an identity that is not canonical" {
	local bad
	for bad in ptr:Outlook.com 'ptr:' 'spf:a b.example' dns:example.org; do
		run -2 --separate-stderr gl import <<-EOF
		type,network,sender,recipient,domain,entry,first_seen,last_seen,passed_at,blocked,passes,count
		tuplet,$bad,,,example.org,,$T0,$T0,,,1,
		EOF
		[[ $stderr == 'greylist: import: line 2: network: '* ]]
	done
	run -0 network_rows
	assert_output ''
}

@test "stats counts the tuplets of spf and ptr identities" {
	run -0 at "$T0" pass --ip=40.107.1.5 --sender="$S" --rcpt="$R" --host="$O1"
	run -0 at "$T0" pass --ip=192.0.2.1 --sender="$S" --rcpt="$R" --spf=pass
	run -0 at "$T0" pass --ip=192.0.2.1 --sender="$S" --rcpt="$R"
	run -0 --separate-stderr at "$T0" stats
	assert_line --regexp '^whitelisted +3$'
	assert_line --regexp '^whitelisted_spf +1$'
	assert_line --regexp '^whitelisted_ptr +1$'
}

@test "batch takes an optional host column and SPF result and writes the identity" {
	run -0 --separate-stderr at $((T0 + 9999)) batch <<-EOF
	40.107.1.5,$S,$R,mx.example.org,$T0,$O1
	52.100.9.7,$S,$R,mx.example.org,$((T0 + 300)),$O2,
	203.0.113.9,x@example.com,$R,,$((T0 + 300)),,pass
	192.0.2.1,$S,$R,mx.example.org,$((T0 + 300))
	EOF
	assert_line -n 0 "40.107.1.5,$S,$R,mx.example.org,$T0,defer,new,300,$O1,,ptr:outlook.com"
	assert_line -n 1 "52.100.9.7,$S,$R,mx.example.org,$((T0 + 300)),pass,delayed,0,$O2,,ptr:outlook.com"
	assert_line -n 2 "203.0.113.9,x@example.com,$R,,$((T0 + 300)),defer,new,300,,pass,spf:example.com"
	assert_line -n 3 "192.0.2.1,$S,$R,mx.example.org,$((T0 + 300)),defer,new,300"
}

@test "client_identity with an unknown word, a repeat or net before another is an error naming the line" {
	local bad
	for bad in 'spf dns net' 'ptr ptr' 'net spf'; do
		setup_db
		conf "client_identity $bad"
		run -2 --separate-stderr check_at "$T0" 192.0.2.1 "$S" "$R"
		[[ $stderr == "greylist: $CONF: line "*': client_identity: '* ]]
		assert_output ''
	done
}

@test "a user's own listing shows the client identity of each entry" {
	local me
	me=$(id -un)
	run -0 at "$T0" pass --ip=40.107.1.5 --sender="$S" --rcpt="$me@example.net" \
		--host="$O1"
	run -1 check_at "$T0" 192.0.2.1 b@example.com "$me@example.net"
	run -0 at "$T0" checkpoint
	run -0 --separate-stderr at "$T0"
	assert_line --regexp '^  192\.0\.2\.0/24 +b@example\.com '
	assert_line --regexp '^  ptr:outlook\.com +alice@example\.org '
}
