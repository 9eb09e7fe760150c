// DNSWorld: see Package.swift.
