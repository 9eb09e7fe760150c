// Reports: see Package.swift.
