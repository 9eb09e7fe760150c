// SPF: see Package.swift.
