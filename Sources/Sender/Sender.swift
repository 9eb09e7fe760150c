// Sender: see Package.swift.
