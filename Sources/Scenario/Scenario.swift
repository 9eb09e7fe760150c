// Scenario: see Package.swift.
