import DNSCore

/// Postfix logs of the identity paths, as Postfix 3.7.11 (Debian 3.7.11-0+deb12u1) wrote them on
/// 2026-12-02: the maillog_file of each test in PostfixIdentityTests, run as root with
/// MXHARNESS_CAPTURE_POSTFIX_LOG=FILE, copied here unchanged (one instance per log, the world's
/// addresses: proxy lb.example.test 203.0.113.7 / 2001:db8:7::7, stranger 203.0.113.8 without
/// PTR, clients 198.51.100.25 / 2001:db8:5::25 without PTR and mail.sender.test 198.51.100.26 /
/// 2001:db8:5::26).
/// The addresses of the identity tests' world, which the captured logs below name.
enum IdentityWorld {
    /// The load balancer / XCLIENT proxy: PTR lb.example.test, whose A/AAAA are these addresses.
    static let lb4 = IPAddress("203.0.113.7")!
    static let lb6 = IPAddress("2001:db8:7::7")!
    /// A host that is neither: no PTR, not in `xclient_hosts`.
    static let stranger4 = IPAddress("203.0.113.8")!
    /// Clients named by the PROXY header or XCLIENT. No PTR:
    static let bare4 = IPAddress("198.51.100.25")!
    static let bare6 = IPAddress("2001:db8:5::25")!
    /// PTR mail.sender.test, whose A/AAAA are these addresses.
    static let named4 = IPAddress("198.51.100.26")!
    static let named6 = IPAddress("2001:db8:5::26")!
}

enum IdentityLogSamples {
    /// `smtpd_upstream_proxy_protocol = haproxy`: PROXY v1 IPv4 and v2 IPv6 for clients without PTR (550 at RCPT), v2 IPv4 and v1 IPv6 for mail.sender.test (accepted), all from the proxy.
    static let proxy = """
        Dec 02 07:50:53 mx postfix/postfix-script[4752]: starting the Postfix mail system
        Dec 02 07:50:54 mx postfix/master[4768]: daemon started -- version 3.7.11, configuration /etc/postfix
        Dec 02 07:50:54 mx postfix/smtpd[4819]: connect from unknown[198.51.100.25]
        Dec 02 07:50:54 mx postfix/smtpd[4819]: NOQUEUE: reject: RCPT from unknown[198.51.100.25]: 550 5.7.25 Client host rejected: cannot find your hostname, [198.51.100.25]; from=<alice@sender.test> to=<bob@example.test> proto=ESMTP helo=<mail.sender.test>
        Dec 02 07:50:54 mx postfix/smtpd[4819]: disconnect from unknown[198.51.100.25] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4
        Dec 02 07:50:54 mx postfix/smtpd[4865]: connect from unknown[2001:db8:5::25]
        Dec 02 07:50:54 mx postfix/smtpd[4865]: NOQUEUE: reject: RCPT from unknown[2001:db8:5::25]: 550 5.7.25 Client host rejected: cannot find your hostname, [2001:db8:5::25]; from=<alice@sender.test> to=<bob@example.test> proto=ESMTP helo=<mail.sender.test>
        Dec 02 07:50:54 mx postfix/smtpd[4865]: disconnect from unknown[2001:db8:5::25] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4
        Dec 02 07:50:54 mx postfix/smtpd[4874]: connect from mail.sender.test[198.51.100.26]
        Dec 02 07:50:54 mx postfix/smtpd[4874]: 5F1C8F86691: client=mail.sender.test[198.51.100.26]
        Dec 02 07:50:54 mx postfix/cleanup[4923]: 5F1C8F86691: message-id=<>
        Dec 02 07:50:54 mx postfix/qmgr[4778]: 5F1C8F86691: from=<alice@sender.test>, size=284, nrcpt=1 (queue active)
        Dec 02 07:50:54 mx postfix/discard[4924]: 5F1C8F86691: to=<bob@example.test>, relay=none, delay=0.01, delays=0.01/0.01/0/0, dsn=2.0.0, status=sent (accepted by mxharness)
        Dec 02 07:50:54 mx postfix/qmgr[4778]: 5F1C8F86691: removed
        Dec 02 07:50:54 mx postfix/smtpd[4874]: disconnect from mail.sender.test[198.51.100.26] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5
        Dec 02 07:50:54 mx postfix/smtpd[4932]: connect from mail.sender.test[2001:db8:5::26]
        Dec 02 07:50:54 mx postfix/smtpd[4932]: 77B2AF86691: client=mail.sender.test[2001:db8:5::26]
        Dec 02 07:50:54 mx postfix/cleanup[4923]: 77B2AF86691: message-id=<>
        Dec 02 07:50:54 mx postfix/qmgr[4778]: 77B2AF86691: from=<alice@sender.test>, size=290, nrcpt=1 (queue active)
        Dec 02 07:50:54 mx postfix/discard[4924]: 77B2AF86691: to=<bob@example.test>, relay=none, delay=0.01, delays=0.01/0/0/0, dsn=2.0.0, status=sent (accepted by mxharness)
        Dec 02 07:50:54 mx postfix/smtpd[4932]: disconnect from mail.sender.test[2001:db8:5::26] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5
        Dec 02 07:50:54 mx postfix/qmgr[4778]: 77B2AF86691: removed
        """

    /// `smtpd_authorized_xclient_hosts = 203.0.113.7, [2001:db8:7::7]`: from the proxy, XCLIENT ADDR=198.51.100.25 (accepted), the same with NAME=[UNAVAILABLE] (550), ADDR=IPV6:2001:db8:5::25 NAME=[TEMPUNAVAIL] from the IPv6 proxy (450), ADDR=198.51.100.25 NAME=mail.sender.test (accepted).
    static let xclient = """
        Dec 02 07:50:53 mx postfix/postfix-script[4725]: starting the Postfix mail system
        Dec 02 07:50:53 mx postfix/master[4740]: daemon started -- version 3.7.11, configuration /etc/postfix
        Dec 02 07:50:54 mx postfix/smtpd[4786]: connect from lb.example.test[203.0.113.7]
        Dec 02 07:50:54 mx postfix/smtpd[4786]: 2C7EEF867D5: client=lb.example.test[198.51.100.25]
        Dec 02 07:50:54 mx postfix/cleanup[4841]: 2C7EEF867D5: message-id=<>
        Dec 02 07:50:54 mx postfix/qmgr[4749]: 2C7EEF867D5: from=<alice@sender.test>, size=283, nrcpt=1 (queue active)
        Dec 02 07:50:54 mx postfix/discard[4844]: 2C7EEF867D5: to=<bob@example.test>, relay=none, delay=0.01, delays=0.01/0.01/0/0, dsn=2.0.0, status=sent (accepted by mxharness)
        Dec 02 07:50:54 mx postfix/qmgr[4749]: 2C7EEF867D5: removed
        Dec 02 07:50:54 mx postfix/smtpd[4786]: disconnect from lb.example.test[198.51.100.25] ehlo=2 xclient=0/1 mail=1 rcpt=1 data=1 quit=1 commands=6/7
        Dec 02 07:50:54 mx postfix/smtpd[4847]: connect from lb.example.test[203.0.113.7]
        Dec 02 07:50:54 mx postfix/smtpd[4847]: NOQUEUE: reject: RCPT from unknown[198.51.100.25]: 550 5.7.25 Client host rejected: cannot find your hostname, [198.51.100.25]; from=<alice@sender.test> to=<bob@example.test> proto=ESMTP helo=<mail.sender.test>
        Dec 02 07:50:54 mx postfix/smtpd[4847]: disconnect from unknown[198.51.100.25] ehlo=2 xclient=0/1 mail=1 rcpt=0/1 quit=1 commands=4/6
        Dec 02 07:50:54 mx postfix/smtpd[4861]: connect from lb.example.test[2001:db8:7::7]
        Dec 02 07:50:54 mx postfix/smtpd[4861]: NOQUEUE: reject: RCPT from unknown[2001:db8:5::25]: 450 4.7.25 Client host rejected: cannot find your hostname, [2001:db8:5::25]; from=<alice@sender.test> to=<bob@example.test> proto=ESMTP helo=<mail.sender.test>
        Dec 02 07:50:54 mx postfix/smtpd[4861]: disconnect from unknown[2001:db8:5::25] ehlo=2 xclient=0/1 mail=1 rcpt=0/1 quit=1 commands=4/6
        Dec 02 07:50:54 mx postfix/smtpd[4881]: connect from lb.example.test[203.0.113.7]
        Dec 02 07:50:54 mx postfix/smtpd[4881]: 4CBD2F86687: client=mail.sender.test[198.51.100.25]
        Dec 02 07:50:54 mx postfix/cleanup[4841]: 4CBD2F86687: message-id=<>
        Dec 02 07:50:54 mx postfix/qmgr[4749]: 4CBD2F86687: from=<alice@sender.test>, size=284, nrcpt=1 (queue active)
        Dec 02 07:50:54 mx postfix/discard[4844]: 4CBD2F86687: to=<bob@example.test>, relay=none, delay=0, delays=0/0/0/0, dsn=2.0.0, status=sent (accepted by mxharness)
        Dec 02 07:50:54 mx postfix/qmgr[4749]: 4CBD2F86687: removed
        Dec 02 07:50:54 mx postfix/smtpd[4881]: disconnect from mail.sender.test[198.51.100.25] ehlo=2 xclient=0/1 mail=1 rcpt=1 data=1 quit=1 commands=6/7
        """

    /// XCLIENT from 203.0.113.8 and 2001:db8:7::7, which are not in `smtpd_authorized_xclient_hosts = 203.0.113.7` (550 5.7.0).
    static let unauthorisedXCLIENT = """
        Dec 02 07:50:53 mx postfix/postfix-script[4665]: starting the Postfix mail system
        Dec 02 07:50:53 mx postfix/master[4669]: daemon started -- version 3.7.11, configuration /etc/postfix
        Dec 02 07:50:54 mx postfix/smtpd[4764]: connect from unknown[203.0.113.8]
        Dec 02 07:50:54 mx postfix/smtpd[4764]: disconnect from unknown[203.0.113.8] ehlo=1 xclient=0/1 quit=1 commands=2/3
        Dec 02 07:50:54 mx postfix/smtpd[4785]: connect from lb.example.test[2001:db8:7::7]
        Dec 02 07:50:54 mx postfix/smtpd[4785]: disconnect from lb.example.test[2001:db8:7::7] ehlo=1 xclient=0/1 quit=1 commands=2/3
        """

    /// A plain connection from the proxy to a port that expects a PROXY header (`smtpd_upstream_proxy_timeout = 1s`): 421.
    static let missingHeader = """
        Dec 02 07:50:53 mx postfix/postfix-script[4688]: starting the Postfix mail system
        Dec 02 07:50:53 mx postfix/master[4692]: daemon started -- version 3.7.11, configuration /etc/postfix
        Dec 02 07:50:55 mx postfix/smtpd[4776]: warning: haproxy read: timeout error
        Dec 02 07:50:55 mx postfix/smtpd[4776]: connect from lb.example.test[203.0.113.7]
        Dec 02 07:50:55 mx postfix/smtpd[4776]: disconnect from lb.example.test[203.0.113.7] commands=0/0
        """

    /// A PROXY v1 header naming 198.51.100.25 sent to a port that expects none: 500 5.5.2.
    static let headerOnPlainPort = """
        Dec 02 07:50:53 mx postfix/postfix-script[4633]: starting the Postfix mail system
        Dec 02 07:50:53 mx postfix/master[4635]: daemon started -- version 3.7.11, configuration /etc/postfix
        Dec 02 07:50:54 mx postfix/smtpd[4762]: connect from lb.example.test[203.0.113.7]
        Dec 02 07:50:54 mx postfix/smtpd[4762]: improper command pipelining after CONNECT from lb.example.test[203.0.113.7]: PROXY TCP4 198.51.100.25 192.0.2.10 40000 25\\r\\n
        Dec 02 07:50:54 mx postfix/smtpd[4762]: disconnect from lb.example.test[203.0.113.7] quit=1 unknown=0/1 commands=1/2
        """

    /// postscreen(8) in front with `postscreen_upstream_proxy_protocol = haproxy`: PROXY v2 for 198.51.100.25 (550 at RCPT), v1 for 2001:db8:5::26 (accepted).
    static let postscreenProxy = """
        Dec 02 07:53:01 mx postfix/postfix-script[14098]: starting the Postfix mail system
        Dec 02 07:53:01 mx postfix/master[14104]: daemon started -- version 3.7.11, configuration /etc/postfix
        Dec 02 07:53:01 mx postfix/postscreen[14127]: cache btree:/tmp/mxh-14061-1-test/postfix/data/postscreen_cache full cleanup: retained=0 dropped=0 entries
        Dec 02 07:53:01 mx postfix/postscreen[14127]: CONNECT from [198.51.100.25]:40000 to [192.0.2.10]:25
        Dec 02 07:53:07 mx postfix/postscreen[14127]: PASS NEW [198.51.100.25]:40000
        Dec 02 07:53:08 mx postfix/smtpd[14621]: connect from unknown[198.51.100.25]
        Dec 02 07:53:08 mx postfix/smtpd[14621]: NOQUEUE: reject: RCPT from unknown[198.51.100.25]: 550 5.7.25 Client host rejected: cannot find your hostname, [198.51.100.25]; from=<alice@sender.test> to=<bob@example.test> proto=ESMTP helo=<mail.sender.test>
        Dec 02 07:53:08 mx postfix/smtpd[14621]: disconnect from unknown[198.51.100.25] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4
        Dec 02 07:53:08 mx postfix/postscreen[14127]: CONNECT from [2001:db8:5::26]:40000 to [2001:db8::10]:25
        Dec 02 07:53:14 mx postfix/postscreen[14127]: PASS NEW [2001:db8:5::26]:40000
        Dec 02 07:53:14 mx postfix/smtpd[15602]: connect from mail.sender.test[2001:db8:5::26]
        Dec 02 07:53:14 mx postfix/smtpd[15602]: 1EF54F86ADA: client=mail.sender.test[2001:db8:5::26]
        Dec 02 07:53:14 mx postfix/cleanup[15606]: 1EF54F86ADA: message-id=<>
        Dec 02 07:53:14 mx postfix/qmgr[14113]: 1EF54F86ADA: from=<alice@sender.test>, size=290, nrcpt=1 (queue active)
        Dec 02 07:53:14 mx postfix/smtpd[15602]: disconnect from mail.sender.test[2001:db8:5::26] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5
        Dec 02 07:53:14 mx postfix/discard[15608]: 1EF54F86ADA: to=<bob@example.test>, relay=none, delay=0.03, delays=0.02/0.01/0/0, dsn=2.0.0, status=sent (accepted by mxharness)
        Dec 02 07:53:14 mx postfix/qmgr[14113]: 1EF54F86ADA: removed
        """
}
