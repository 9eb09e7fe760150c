// Resolver: see Package.swift.
