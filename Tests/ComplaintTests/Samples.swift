/// Real-looking complaint evidence, documentation addresses and `.test` names only.
enum Samples {
    /// The line: a receiving Postfix with reject_unknown_client_hostname (default 450).
    static let postfixReject = """
        May  1 12:00:00 mx postfix/smtpd[4242]: NOQUEUE: reject: RCPT from unknown[2001:db8::66]: 450 4.7.25 Client host rejected: cannot find your hostname, [2001:db8::66]; from=<a@sender.test> to=<u@example.test> proto=ESMTP helo=<bad.sender.test>
        """

    /// A sending Postfix's log: the queue manager's line and the smtp client's bounce, HELO restrictions at 550.
    static let postfixDelivery = """
        May  1 12:00:00 mail postfix/qmgr[811]: 4F2A3B1C2D: from=<alice@sender.test>, size=1234, nrcpt=1 (queue active)
        May  1 12:00:01 mail postfix/smtp[812]: 4F2A3B1C2D: to=<bob@example.test>, relay=mx.example.test[192.0.2.10]:25, delay=1.2, delays=0.1/0/0.5/0.6, dsn=5.7.1, status=bounced (host mx.example.test[192.0.2.10] said: 550 5.7.1 <nohost.sender.test>: Helo command rejected: Host not found (in reply to RCPT TO command))
        """

    /// A receiving Exim's reject for a client without a confirmed reverse name (`verify = reverse_host_lookup`).
    static let eximReject = """
        2024-05-01 12:00:00 H=(mail.sender.test) [2001:db8:5::66]:51234 I=[2001:db8::10]:25 F=<alice@sender.test> rejected RCPT <bob@example.test>: Reverse DNS lookup failed for host 2001:db8:5::66
        """

    /// A sending Exim's deferral line and the message's arrival line.
    static let eximDelivery = """
        2024-05-01 11:59:58 1rXyZa-000123-AB <= alice@sender.test U=alice P=local S=512
        2024-05-01 12:00:00 1rXyZa-000123-AB == bob@example.test R=dnslookup T=remote_smtp defer (-44) H=mx.example.test [2001:db8::10]: SMTP error from remote mail server after pipelined RCPT TO:<bob@example.test>: 450 4.7.25 Service unavailable, sending IPv6 address [2001:db8:5::66] must have reverse DNS record.
        """

    /// A Postfix DSN for a gmail-like receiver that refused an IPv6 sender at the end of DATA.
    static let dsn = """
        Return-Path: <>
        Received: by mail.sender.test (Postfix) id 3C1D2E4F5A; Wed,  1 May 2024 12:00:05 +0000 (UTC)
        Date: Wed,  1 May 2024 12:00:05 +0000 (UTC)
        From: MAILER-DAEMON@mail.sender.test (Mail Delivery System)
        Subject: Undelivered Mail Returned to Sender
        To: alice@sender.test
        Auto-Submitted: auto-replied
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status;
        \tboundary="3C1D2E4F5A.1714564805/mail.sender.test"
        Message-Id: <20240501120005.3C1D2E4F5A@mail.sender.test>

        This is a MIME-encapsulated message.

        --3C1D2E4F5A.1714564805/mail.sender.test
        Content-Description: Notification
        Content-Type: text/plain; charset=us-ascii

        This is the mail system at host mail.sender.test.

        I'm sorry to have to inform you that your message could not
        be delivered to one or more recipients. It's attached below.

                           The mail system

        <bob@example.test>: host mx.example.test[2001:db8::10] said: 550-5.7.1
            [2001:db8:5::66] Our system has detected that this message does not meet
            IPv6 sending guidelines regarding PTR records and authentication. (in reply
            to end of DATA command)

        --3C1D2E4F5A.1714564805/mail.sender.test
        Content-Description: Delivery report
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mail.sender.test
        X-Postfix-Queue-ID: 3C1D2E4F5A
        X-Postfix-Sender: rfc822; alice@sender.test
        Arrival-Date: Wed,  1 May 2024 12:00:01 +0000 (UTC)

        Final-Recipient: rfc822; bob@example.test
        Original-Recipient: rfc822;bob@example.test
        Action: failed
        Status: 5.7.1
        Remote-MTA: dns; mx.example.test
        Diagnostic-Code: smtp; 550-5.7.1 [2001:db8:5::66] Our system has detected that
            this message does not meet IPv6 sending guidelines regarding PTR records
            and authentication.

        --3C1D2E4F5A.1714564805/mail.sender.test
        Content-Description: Undelivered Message Headers
        Content-Type: text/rfc822-headers

        Return-Path: <alice@sender.test>
        Received: from [192.0.2.99] (unknown [192.0.2.99]) by mail.sender.test (Postfix) with ESMTPSA id 3C1D2E4F5A
        From: Alice <alice@sender.test>
        To: bob@example.test
        Subject: hello

        --3C1D2E4F5A.1714564805/mail.sender.test--
        """

    /// An Exim bounce in plain text: SPF fail at RCPT.
    static let bounce = """
        From: Mail Delivery System <Mailer-Daemon@mail.sender.test>
        To: alice@sender.test
        Subject: Mail delivery failed: returning message to sender
        X-Failed-Recipients: bob@example.test

        This message was created automatically by mail delivery software.

        A message that you sent could not be delivered to one or more of its
        recipients. This is a permanent error. The following address(es) failed:

          bob@example.test
            host mx.example.test [192.0.2.10]
            SMTP error from remote mail server after RCPT TO:<bob@example.test>:
            550 5.7.23 SPF fail - not authorized

        ------ This is a copy of the message, including all the headers. ------

        Return-path: <alice@sender.test>
        Received: from alice by mail.sender.test with local (Exim 4.96)
        Subject: hello
        """

    /// swaks against a microsoft-like receiver: an IPv6 sender with a PTR whose SPF does not pass.
    static let transcript = """
        === Trying mx.example.test:25...
        === Connected to 2001:db8::10.
        <-  220 mx.example.test ESMTP
         -> EHLO mail.sender.test
        <-  250-mx.example.test
        <-  250-PIPELINING
        <-  250 ENHANCEDSTATUSCODES
         -> MAIL FROM:<alice@sender.test>
        <-  250 2.1.0 Ok
         -> RCPT TO:<bob@example.test>
        <** 450 4.7.26 Service unavailable, message sent over IPv6 [2001:db8:5::66] must pass either SPF or DKIM validation.
         -> QUIT
        <-  221 2.0.0 Bye
        === Connection closed with remote host.
        """
}
