import Testing

/// A complete, valid scenario to vary: the example of the format's documentation, for the tests
/// of the scenario format and of the kinds' own keys.
public let formatExample = """
    name: ipv6-sender-without-ptr
    description: >
      An IPv6 sender whose address has no PTR record delivers to a receiver that
      requires forward-confirmed reverse DNS.
    tags: [ipv6, ptr]

    dns:
      records:
        - example.test. MX 10 mx.example.test.
        - mx.example.test. A 192.0.2.10
        - mx.example.test. AAAA 2001:db8::10
        - mail.sender.test. AAAA 2001:db8:5::25
        - sender.test. TXT "v=spf1 ip6:2001:db8:5::/64 -all"
        # no PTR for 2001:db8:5::25

    receiver:
      hostname: mx.example.test
      addresses: [192.0.2.10, "2001:db8::10"]
      policy: fcrdns-strict

    sender:
      addresses: {ipv6: "2001:db8:5::25"}
      helo: mail.sender.test
      mail_from: alice@sender.test
      rcpt_to: [bob@example.test]

    expect:
      outcome: bounced
      family: ipv6
      stage: rcpt
      code: 550
      enhanced: 5.7.25
      text: cannot find your hostname

    """

/// `formatExample` with `old` replaced by `new` (which must be there).
public func formatExample(_ old: String, _ new: String) -> String {
    #expect(formatExample.contains(old))
    return formatExample.replacingOccurrences(of: old, with: new)
}

/// An IPv6 sender whose SPF record lists only its IPv4 address, to a receiver on `target` with
/// rspamd beside it (`thresholds`: a `receiver.rspamd` line, or nothing for rspamd's defaults):
/// rspamd 3.4 scores it 4.40 (VIOLATED_DIRECT_SPF, R_SPF_FAIL), whichever MTA asks it.
public func rspamdSPFWithoutIPv6(target: String, thresholds: String, expect: String) -> String {
    """
    name: spf-without-ip6
    dns:
      records:
        - example.test. MX 10 mx.example.test.
        - mx.example.test. AAAA 2001:db8::10
        - mail.sender.test. A 203.0.113.25
        - mail.sender.test. AAAA 2001:db8:5::25
        - 2001:db8:5::25 PTR mail.sender.test.
        - sender.test. MX 10 mail.sender.test.
        - sender.test. TXT "v=spf1 ip4:203.0.113.25 -all"
    receiver:
      hostname: mx.example.test
      addresses: ["2001:db8::10"]
      target: \(target)
      engines: [rspamd]
    \(thresholds)
    sender:
      addresses: {ipv6: "2001:db8:5::25"}
      helo: mail.sender.test
      mail_from: alice@sender.test
      rcpt_to: [bob@example.test]
    expect: \(expect)
    """
}
