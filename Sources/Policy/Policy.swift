// Policy: see Package.swift.
