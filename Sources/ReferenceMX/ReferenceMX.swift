// ReferenceMX: see Package.swift.
