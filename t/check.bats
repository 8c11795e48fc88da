#!/usr/bin/env bats
# The greylisting method through "greylist check": embargo, retry window,
# auto-whitelisting, expiry, networks and exemptions (DESIGN.md section 1).

load test_helper

# pass_first: the standard triplet is seen at T0 and passes at T0+300.
pass_first() {
	run -1 --separate-stderr check_at "$T0" "$IP" "$S" "$R"
	assert_reply "$DEFER5"
	run -0 --separate-stderr check_at $((T0 + EMBARGO)) "$IP" "$S" "$R"
	assert_reply 'X-Greylist: delayed 300 seconds'
}

@test "a first check is deferred for the whole embargo unless no_delay, exempt, exempt_file or spf_bypass passes it" {
	printf '%s\n' '# known problem senders' '' '@lists.example.com' '10.9.8.0/24' \
		>"$BATS_TEST_TMPDIR/exempt"
	local ef="exempt_file $BATS_TEST_TMPDIR/exempt"
	each_row first_check "
	a new triplet is deferred for the whole embargo||1|451 4.7.1 Greylisted, please retry later retry=00:05:00|$IP|$S|$R
	the null sender is greylisted like any other||1|$DEFER5|$IP||$R
	a client in a no_delay CIDR passes at once|no_delay 198.51.100.0/24|0|X-Greylist: exempt (no_delay 198.51.100.0/24)|198.51.100.7|$S|$R
	a client outside a no_delay CIDR is greylisted|no_delay 198.51.100.0/24|1|$DEFER5|198.51.101.7|$S|$R
	a client named by a single-address no_delay entry passes at once|no_delay 203.0.113.5|0|X-Greylist: exempt (no_delay 203.0.113.5)|203.0.113.5|$S|$R
	a single-address no_delay entry does not cover its neighbours|no_delay 203.0.113.5|1|$DEFER5|203.0.113.6|$S|$R
	a client under a dotted no_delay prefix passes at once|no_delay 192.168.|0|X-Greylist: exempt (no_delay 192.168.)|192.168.44.3|$S|$R
	a dotted no_delay prefix matches whole octets only|no_delay 10.|1|$DEFER5|100.1.2.3|$S|$R
	an IPv6 client in a no_delay IPv6 CIDR passes at once|no_delay 2001:db8:ff::/48|0|X-Greylist: exempt (no_delay 2001:db8:ff::/48)|2001:db8:ff:1::25|$S|$R
	an exempt sender address passes at once|exempt bob@example.com|0|X-Greylist: exempt (sender bob@example.com)|$IP|<Bob@Example.COM>|$R
	an exempt sender address does not exempt other senders at its domain|exempt bob@example.com|1|$DEFER5|$IP|carol@example.com|$R
	an exempt @domain passes every sender at that domain|exempt @example.com|0|X-Greylist: exempt (sender @example.com)|$IP|anyone@example.com|$R
	an exempt @domain does not exempt the null sender|exempt @example.com|1|$DEFER5|$IP||$R
	an exempt_file sender domain passes at once|$ef|0|X-Greylist: exempt (sender @lists.example.com)|$IP|news@lists.example.com|$R
	an exempt_file network entry joins no_delay|$ef|0|X-Greylist: exempt (no_delay 10.9.8.0/24)|10.9.8.1|$S|$R
	spf_bypass passes a client whose SPF result is pass|spf_bypass yes|0|X-Greylist: exempt (SPF pass)|$IP|$S|$R|--spf=pass
	spf_bypass takes the SPF result in any case|spf_bypass yes|0|X-Greylist: exempt (SPF pass)|$IP|$S|$R|--spf=Pass
	an SPF pass is greylisted when spf_bypass is off|spf_bypass no|1|$DEFER5|$IP|$S|$R|--spf=pass
	an SPF pass is greylisted by default||1|$DEFER5|$IP|$S|$R|--spf=pass
	an SPF fail is greylisted even with spf_bypass|spf_bypass yes|1|$DEFER5|$IP|$S|$R|--spf=fail
	"
}

@test "a retry is deferred within the embargo and passes from its end to the retry window's" {
	each_row retry_check "
	an early retry is deferred for the time left in the embargo||60|1|${DEFER}00:04:00
	an early retry one second before the embargo ends is told one second||299|1|${DEFER}00:00:01
	a retry at exactly the embargo passes with the delay||300|0|X-Greylist: delayed 300 seconds
	a retry at exactly the end of the retry window still passes||$RETRY_WINDOW|0|X-Greylist: delayed 100800 seconds
	a retry after the retry window starts over with the full embargo||$RETRY_WINDOW + 1|1|$DEFER5
	the reply template expands %r %s %n %d and %%|reply 450 4.2.0 Wait %s seconds (%r) from %n for %d, 100%% sure|60|1|450 4.2.0 Wait 240 seconds (00:04:00) from 192.0.2.0/24 for example.org, 100% sure
	the header keyword names the pass header|header X-Grey-Test|300|0|X-Grey-Test: delayed 300 seconds
	"
}

@test "early retries do not move the first-seen time" {
	run -1 check_at "$T0" "$IP" "$S" "$R"
	run -1 check_at $((T0 + 60)) "$IP" "$S" "$R"
	run -1 check_at $((T0 + 120)) "$IP" "$S" "$R"
	run -1 --separate-stderr check_at $((T0 + 240)) "$IP" "$S" "$R"
	assert_reply "${DEFER}00:01:00"
	run -0 --separate-stderr check_at $((T0 + 300)) "$IP" "$S" "$R"
	assert_reply 'X-Greylist: delayed 300 seconds'
}

@test "a retry within the retry window passes with the time since first seen" {
	run -1 check_at "$T0" "$IP" "$S" "$R"
	run -1 check_at $((T0 + 100)) "$IP" "$S" "$R"
	run -0 --separate-stderr check_at $((T0 + 3725)) "$IP" "$S" "$R"
	assert_reply 'X-Greylist: delayed 3725 seconds'
}

@test "after a start-over the embargo counts from the restart" {
	local t1=$((T0 + RETRY_WINDOW + 1))
	run -1 check_at "$T0" "$IP" "$S" "$R"
	run -1 check_at "$t1" "$IP" "$S" "$R"
	run -1 --separate-stderr check_at $((t1 + 60)) "$IP" "$S" "$R"
	assert_reply "$DEFER4"
	run -0 --separate-stderr check_at $((t1 + 300)) "$IP" "$S" "$R"
	assert_reply 'X-Greylist: delayed 300 seconds'
}

@test "a pass auto-whitelists the network and sender domain, and its entries expire" {
	local awl='X-Greylist: auto-whitelisted (192.0.2.0/24, example.org)'
	each_row after_pass "
	a pass auto-whitelists the network and sender domain for another recipient||$IP|400|0|$awl|192.0.2.77|$S|carol@example.net
	a pass auto-whitelists another sender at the same domain||$IP|400|0|$awl|192.0.2.200|dave@example.org|erin@example.com
	a pass does not whitelist the same sender from a different network||$IP|400|1|$DEFER5|198.51.100.1|$S|$R
	a pass does not whitelist another sender domain on the same network||$IP|400|1|$DEFER5|$IP|alice@example.com|$R
	the passed triplet passes again as passed before||$IP|3600|0|X-Greylist: auto-whitelisted (passed before)|$IP|$S|$R
	an auto-whitelisted network expires whitelist_lifetime after its last use||$IP|EMBARGO + LIFETIME + 1|1|$DEFER5|192.0.2.77|$S|carol@example.net
	an auto-whitelisted network is still valid just before its lifetime ends||$IP|EMBARGO + LIFETIME - 1|0|$awl|192.0.2.77|$S|carol@example.net
	a passed triplet expires whitelist_lifetime after its last use||$IP|EMBARGO + LIFETIME + 1|1|$DEFER5|$IP|$S|$R
	an IPv6 pass auto-whitelists the /64 network||2001:db8:1:2::1|400|0|X-Greylist: auto-whitelisted (2001:db8:1:2::/64, example.org)|2001:db8:1:2:aaaa::5|$S|carol@example.net
	an IPv4-mapped IPv6 client is auto-whitelisted by its IPv4 network||$IP|400|0|$awl|::ffff:192.0.2.50|$S|carol@example.net
	"
}

# The passed triplet and its tuplet are both valid here; the passed triplet
@test "the passed triplet still passes after the retry window" {
	pass_first
	run -0 --separate-stderr check_at $((T0 + 10 * 86400)) "$IP" "$S" "$R"
	assert_output --partial 'X-Greylist: auto-whitelisted ('
}

@test "each auto-whitelisted pass refreshes the network's lifetime" {
	local p=$((T0 + EMBARGO))
	pass_first
	run -0 check_at $((p + 30 * 86400)) 192.0.2.77 "$S" carol@example.net
	run -0 --separate-stderr check_at $((p + 60 * 86400)) 192.0.2.78 "$S" dave@example.net
	assert_reply 'X-Greylist: auto-whitelisted (192.0.2.0/24, example.org)'
}

@test "each pass of the passed triplet refreshes its lifetime" {
	local p=$((T0 + EMBARGO))
	pass_first
	run -0 check_at $((p + 30 * 86400)) "$IP" "$S" "$R"
	run -0 --separate-stderr check_at $((p + 60 * 86400)) "$IP" "$S" "$R"
	assert_output --partial 'X-Greylist: auto-whitelisted ('
}

@test "the null sender passes after the embargo" {
	run -1 check_at "$T0" "$IP" '' "$R"
	run -0 --separate-stderr check_at $((T0 + 300)) "$IP" '' "$R"
	assert_reply 'X-Greylist: delayed 300 seconds'
}

@test "a defer writes exactly one line to stdout and nothing to stderr" {
	run -1 --separate-stderr --keep-empty-lines check_at "$T0" "$IP" "$S" "$R"
	assert_equal "$output" "$DEFER5"$'\n'
	assert_equal "$stderr" ''
}

@test "a pass writes exactly one line to stdout and nothing to stderr" {
	run -1 check_at "$T0" "$IP" "$S" "$R"
	run -0 --separate-stderr --keep-empty-lines check_at $((T0 + 300)) "$IP" "$S" "$R"
	assert_equal "$output" $'X-Greylist: delayed 300 seconds\n'
	assert_equal "$stderr" ''
}

@test "the check options also take their value as the next argument" {
	run -1 at "$T0" check --ip "$IP" --sender "$S" --rcpt "$R"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" "$S" "$R"
	assert_reply "$DEFER4"
}

@test "the helo name does not change the triplet" {
	run -1 check_at "$T0" "$IP" "$S" "$R" --helo=mx1.example.org
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" "$S" "$R" --helo=other.example.com
	assert_reply "$DEFER4"
}

@test "-v copies the decision to stderr and keeps stdout to the one line" {
	run -1 --separate-stderr at "$T0" -v check --ip="$IP" --sender="$S" --rcpt="$R"
	assert_output "$DEFER5"
	assert_equal "${#lines[@]}" 1
	assert [ -n "$stderr" ]
}
