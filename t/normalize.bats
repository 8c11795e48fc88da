#!/usr/bin/env bats
# Normalisation of networks and addresses, observed through the clock: a
# variant checked 60 seconds after the original is the same triplet when it
# is told retry=00:04:00, and a different one when told retry=00:05:00 while
# the original, checked again, is still told retry=00:04:00.

load test_helper

@test "an unrelated sender is a different triplet" {
	run -1 check_at "$T0" "$IP" "$S" "$R"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" carol@example.org "$R"
	assert_reply "$DEFER5"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" "$S" "$R"
	assert_reply "$DEFER4"
}

@test "an unrelated recipient is a different triplet" {
	run -1 check_at "$T0" "$IP" "$S" "$R"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" "$S" dave@example.net
	assert_reply "$DEFER5"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" "$S" "$R"
	assert_reply "$DEFER4"
}

@test "angle brackets around the sender are removed" {
	run -1 check_at "$T0" "$IP" "<$S>" "$R"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" "$S" "$R"
	assert_reply "$DEFER4"
}

@test "angle brackets around the recipient are removed" {
	run -1 check_at "$T0" "$IP" "$S" "<$R>"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" "$S" "$R"
	assert_reply "$DEFER4"
}

@test "surrounding spaces around the addresses are removed" {
	run -1 check_at "$T0" "$IP" " $S " "  <$R> "
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" "$S" "$R"
	assert_reply "$DEFER4"
}

@test "the null sender written as <> is the null sender" {
	run -1 check_at "$T0" "$IP" '<>' "$R"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" '' "$R"
	assert_reply "$DEFER4"
}

@test "the null sender is a different sender from a named one" {
	run -1 check_at "$T0" "$IP" '' "$R"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" "$S" "$R"
	assert_reply "$DEFER5"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" '' "$R"
	assert_reply "$DEFER4"
}

@test "sender case is ignored in the local part and the domain" {
	run -1 check_at "$T0" "$IP" Alice@Example.ORG "$R"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" aLICE@example.org "$R"
	assert_reply "$DEFER4"
}

@test "recipient case is ignored in the local part and the domain" {
	run -1 check_at "$T0" "$IP" "$S" BOB@Example.Net
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" "$S" bob@example.NET
	assert_reply "$DEFER4"
}

@test "the recipient's +detail is removed" {
	run -1 check_at "$T0" "$IP" "$S" bob+lists@example.net
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" "$S" "$R"
	assert_reply "$DEFER4"
}

@test "the recipient's +detail is removed whatever its case" {
	run -1 check_at "$T0" "$IP" "$S" '<Bob+Lists@Example.ORG>'
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" "$S" bob+other@example.org
	assert_reply "$DEFER4"
}

@test "the sender's +detail is kept" {
	run -1 check_at "$T0" "$IP" alice+news@example.org "$R"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" "$S" "$R"
	assert_reply "$DEFER5"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" alice+news@example.org "$R"
	assert_reply "$DEFER4"
}

@test "normalize_verp collapses a BATV prvs tag" {
	conf 'normalize_verp yes'
	run -1 check_at "$T0" "$IP" prvs=0123abcd=alice@example.org "$R"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" prvs=9876fedc=alice@example.org "$R"
	assert_reply "$DEFER4"
}

@test "normalize_verp collapses a BATV msprvs1 tag" {
	conf 'normalize_verp yes'
	run -1 check_at "$T0" "$IP" msprvs1=18020lbma2vq=alice@example.org "$R"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" msprvs1=18021xyzq3ab=alice@example.org "$R"
	assert_reply "$DEFER4"
}

@test "normalize_verp collapses a BATV btv1 tag" {
	conf 'normalize_verp yes'
	run -1 check_at "$T0" "$IP" btv1==0123abcdef==alice@example.org "$R"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" btv1==fedcba9876==alice@example.org "$R"
	assert_reply "$DEFER4"
}

@test "normalize_verp does not merge different senders behind BATV tags" {
	conf 'normalize_verp yes'
	run -1 check_at "$T0" "$IP" prvs=0123abcd=alice@example.org "$R"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" prvs=0123abcd=carol@example.org "$R"
	assert_reply "$DEFER5"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" prvs=0123abcd=alice@example.org "$R"
	assert_reply "$DEFER4"
}

@test "normalize_verp collapses the SRS0 hash and timestamp" {
	conf 'normalize_verp yes'
	run -1 check_at "$T0" "$IP" SRS0=ab12=Q3=example.com=alice@forwarder.example "$R"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" SRS0=zy98=R7=example.com=alice@forwarder.example "$R"
	assert_reply "$DEFER4"
}

@test "normalize_verp collapses the SRS1 hash and timestamp" {
	conf 'normalize_verp yes'
	run -1 check_at "$T0" "$IP" SRS1=xq1a=first.example==ab12=Q3=example.com=alice@second.example "$R"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" SRS1=mn9z=first.example==zy98=R7=example.com=alice@second.example "$R"
	assert_reply "$DEFER4"
}

@test "normalize_verp collapses VERP digit runs of any length" {
	conf 'normalize_verp yes'
	run -1 check_at "$T0" "$IP" bounces-12345@lists.example.org "$R"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" bounces-7@lists.example.org "$R"
	assert_reply "$DEFER4"
}

@test "normalize_verp collapses several digit runs in one local part" {
	conf 'normalize_verp yes'
	run -1 check_at "$T0" "$IP" msg-1234-5678-bounce@lists.example.org "$R"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" msg-99-1-bounce@lists.example.org "$R"
	assert_reply "$DEFER4"
}

@test "normalize_verp collapses hex runs of eight or more holding a digit" {
	conf 'normalize_verp yes'
	run -1 check_at "$T0" "$IP" bounce-1a2b3c4d5e@lists.example.org "$R"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" bounce-f9e8d7c6b5@lists.example.org "$R"
	assert_reply "$DEFER4"
}

@test "normalize_verp leaves digits in the sender's domain alone" {
	conf 'normalize_verp yes'
	run -1 check_at "$T0" "$IP" alice@mx1.example.org "$R"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" alice@mx2.example.org "$R"
	assert_reply "$DEFER5"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" alice@mx1.example.org "$R"
	assert_reply "$DEFER4"
}

@test "normalize_verp leaves the recipient alone" {
	conf 'normalize_verp yes'
	run -1 check_at "$T0" "$IP" "$S" user1@example.net
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" "$S" user2@example.net
	assert_reply "$DEFER5"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" "$S" user1@example.net
	assert_reply "$DEFER4"
}

@test "without normalize_verp VERP digit runs are different senders" {
	conf 'normalize_verp no'
	run -1 check_at "$T0" "$IP" bounces-12345@lists.example.org "$R"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" bounces-67890@lists.example.org "$R"
	assert_reply "$DEFER5"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" bounces-12345@lists.example.org "$R"
	assert_reply "$DEFER4"
}

@test "without normalize_verp BATV tags are different senders" {
	conf 'normalize_verp no'
	run -1 check_at "$T0" "$IP" prvs=0123abcd=alice@example.org "$R"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" prvs=9876fedc=alice@example.org "$R"
	assert_reply "$DEFER5"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" prvs=0123abcd=alice@example.org "$R"
	assert_reply "$DEFER4"
}

@test "normalize_verp is off by default" {
	run -1 check_at "$T0" "$IP" bounces-12345@lists.example.org "$R"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" bounces-67890@lists.example.org "$R"
	assert_reply "$DEFER5"
	run -1 --separate-stderr check_at $((T0 + 60)) "$IP" bounces-12345@lists.example.org "$R"
	assert_reply "$DEFER4"
}

@test "two clients in the same IPv4 /24 are one network by default" {
	run -1 check_at "$T0" 192.0.2.1 "$S" "$R"
	run -1 --separate-stderr check_at $((T0 + 60)) 192.0.2.254 "$S" "$R"
	assert_reply "$DEFER4"
}

@test "two clients in neighbouring IPv4 /24s are different networks by default" {
	run -1 check_at "$T0" 192.0.2.1 "$S" "$R"
	run -1 --separate-stderr check_at $((T0 + 60)) 192.0.3.1 "$S" "$R"
	assert_reply "$DEFER5"
	run -1 --separate-stderr check_at $((T0 + 60)) 192.0.2.1 "$S" "$R"
	assert_reply "$DEFER4"
}

@test "ipv4_prefix 32 keeps the full address" {
	conf 'ipv4_prefix 32'
	run -1 check_at "$T0" 192.0.2.1 "$S" "$R"
	run -1 --separate-stderr check_at $((T0 + 60)) 192.0.2.2 "$S" "$R"
	assert_reply "$DEFER5"
	run -1 --separate-stderr check_at $((T0 + 60)) 192.0.2.1 "$S" "$R"
	assert_reply "$DEFER4"
}

@test "ipv4_prefix 32 still matches the same address" {
	conf 'ipv4_prefix 32'
	run -1 check_at "$T0" 192.0.2.1 "$S" "$R"
	run -1 --separate-stderr check_at $((T0 + 60)) 192.0.2.1 "$S" "$R"
	assert_reply "$DEFER4"
}

@test "ipv4_prefix 16 groups clients by /16" {
	conf 'ipv4_prefix 16'
	run -1 check_at "$T0" 192.0.2.1 "$S" "$R"
	run -1 --separate-stderr check_at $((T0 + 60)) 192.0.77.1 "$S" "$R"
	assert_reply "$DEFER4"
}

@test "ipv4_prefix 16 separates neighbouring /16s" {
	conf 'ipv4_prefix 16'
	run -1 check_at "$T0" 192.0.2.1 "$S" "$R"
	run -1 --separate-stderr check_at $((T0 + 60)) 192.1.2.1 "$S" "$R"
	assert_reply "$DEFER5"
	run -1 --separate-stderr check_at $((T0 + 60)) 192.0.2.1 "$S" "$R"
	assert_reply "$DEFER4"
}

@test "ipv6_prefix 128 keeps the full address" {
	conf 'ipv6_prefix 128'
	run -1 check_at "$T0" 2001:db8:1:2::1 "$S" "$R"
	run -1 --separate-stderr check_at $((T0 + 60)) 2001:db8:1:2::2 "$S" "$R"
	assert_reply "$DEFER5"
	run -1 --separate-stderr check_at $((T0 + 60)) 2001:db8:1:2::1 "$S" "$R"
	assert_reply "$DEFER4"
}

@test "ipv6_prefix 128 still matches the same address however it is written" {
	conf 'ipv6_prefix 128'
	run -1 check_at "$T0" 2001:db8:1:2::1 "$S" "$R"
	run -1 --separate-stderr check_at $((T0 + 60)) 2001:0DB8:0001:0002:0000:0000:0000:0001 "$S" "$R"
	assert_reply "$DEFER4"
}

@test "ipv6_prefix 48 groups clients by /48" {
	conf 'ipv6_prefix 48'
	run -1 check_at "$T0" 2001:db8:1:2::1 "$S" "$R"
	run -1 --separate-stderr check_at $((T0 + 60)) 2001:db8:1:ffff::1 "$S" "$R"
	assert_reply "$DEFER4"
}

@test "ipv4_prefix does not change how IPv6 clients are grouped" {
	conf 'ipv4_prefix 32'
	run -1 check_at "$T0" 2001:db8:1:2::1 "$S" "$R"
	run -1 --separate-stderr check_at $((T0 + 60)) 2001:db8:1:2::2 "$S" "$R"
	assert_reply "$DEFER4"
}
