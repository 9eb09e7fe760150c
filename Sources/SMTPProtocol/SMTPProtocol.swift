// SMTPProtocol: see Package.swift.
