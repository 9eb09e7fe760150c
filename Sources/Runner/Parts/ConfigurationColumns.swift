import Scenario

/// A receiver kind's own configuration files as matrix columns (`--postfix-config A.cf,B.cf` for
/// Postfix): the option that names them and how one file becomes the receiver settings a column
/// runs every case with. The kind's module reads the file; the matrix names no kind.
public struct ConfigurationColumns: Sendable {
    /// The command-line option that gives the files (`--postfix-config`).
    public var option: String
    /// What one file is, for messages (`main.cf`).
    public var fileKind: String
    /// Reads the file at `path`; the error names the file (and the line, when the text is wrong).
    public var read: @Sendable (_ path: String) throws(ConfigurationFileError) -> ReceiverConfigurationFile

    public init(
        option: String, fileKind: String,
        read: @escaping @Sendable (_ path: String) throws(ConfigurationFileError) -> ReceiverConfigurationFile
    ) {
        self.option = option
        self.fileKind = fileKind
        self.read = read
    }
}

/// One configuration file read for a column: the receiver key it becomes (`receiver.postfix`), its
/// value, and one line for people saying what the file is.
public struct ReceiverConfigurationFile: Sendable, Hashable {
    public var path: String
    /// The receiver's own scenario key the settings replace in every case of the column.
    public var key: String
    public var settings: any PartSettings & Hashable
    /// `Postfix main.cf A.cf (2 parameters)`.
    public var summary: String

    public init(path: String, key: String, settings: any PartSettings & Hashable, summary: String) {
        self.path = path
        self.key = key
        self.settings = settings
        self.summary = summary
    }

    public static func == (a: ReceiverConfigurationFile, b: ReceiverConfigurationFile) -> Bool {
        a.path == b.path && a.key == b.key && a.summary == b.summary
            && AnyHashable(a.settings) == AnyHashable(b.settings)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(path)
        hasher.combine(key)
        hasher.combine(AnyHashable(settings))
    }
}

/// A configuration file that cannot be read or is not valid: the message names the file.
public struct ConfigurationFileError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
