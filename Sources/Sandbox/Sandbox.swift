// Sandbox: see Package.swift.
