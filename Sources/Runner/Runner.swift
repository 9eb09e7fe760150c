// Runner: see Package.swift.
