#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CUnbound
import DNSCore
import Foundation
import Logging
import Sandbox

/// How a resolver reaches its world.
public struct ResolverConfiguration: Sendable {
    /// The recursive server every query is forwarded to (the world's unbound).
    public var server: IPAddress
    public var port: UInt16
    /// How long one query may take before it is reported as `.timeout` (and cancelled).
    public var timeout: Duration
    /// The namespace the resolver's sockets live in (nil: the current one).
    public var namespace: NetworkNamespace?
    /// Where libunbound's configuration file is written.
    public var directory: String
    /// Answers kept in front of libunbound for their TTL (`AnswerCache`); 0 sends every question
    /// through libunbound.
    public var cacheCapacity: Int
    /// `validating`: libunbound runs its validator (RFC 4035 5) and reports bogus answers as
    /// `DNSLookupError.bogus`, whatever the server it forwards to does.
    public var validation: ResolverValidation
    /// The trust anchor a validating resolver starts from: a DS or DNSKEY line for the root (the
    /// world's, `SignedWorld.trustAnchor`); nil: none, so every answer is insecure.
    public var trustAnchor: String?
    /// The file name libunbound's configuration is written to, in `directory`.
    public var configurationName: String

    public init(
        server: IPAddress, port: UInt16 = 53, timeout: Duration = .milliseconds(1500),
        namespace: NetworkNamespace? = nil, directory: String,
        cacheCapacity: Int = 4096, validation: ResolverValidation = .nonValidating, trustAnchor: String? = nil,
        configurationName: String? = nil
    ) {
        self.validation = validation
        self.trustAnchor = trustAnchor
        self.configurationName =
            configurationName ?? (validation == .validating ? "libunbound-validating.conf" : "libunbound.conf")
        self.server = server
        self.port = port
        self.timeout = timeout
        self.namespace = namespace
        self.directory = directory
        self.cacheCapacity = cacheCapacity
    }
}

/// A resolver that could not be set up.
public struct ResolverError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// libunbound, the same resolver library a real receiver would link, forwarding every query
/// to the world's unbound. This type owns every libunbound pointer; nothing else imports CUnbound.
///
/// One worker thread per resolver enters the namespace, creates the libunbound context and runs
/// its asynchronous API (`ub_resolve_async`, `ub_fd`, `ub_process`) under `poll`, so lookups are
/// concurrent and each has its own deadline. libunbound's own worker thread is started from that
/// thread and so inherits its network namespace.
public final class DNSResolver: DNSLookup, @unchecked Sendable {
    public let configuration: ResolverConfiguration
    private let worker: Worker
    private let cache: AnswerCache?

    public init(configuration: ResolverConfiguration, logger: Logger = Logger(label: "mxharness.resolver")) async throws
    {
        self.configuration = configuration
        self.cache = configuration.cacheCapacity > 0 ? AnswerCache(capacity: configuration.cacheCapacity) : nil
        let configPath = configuration.directory + "/" + configuration.configurationName
        // Read once, by the context about to be made: a plain write (an atomic one also syncs the disk).
        try Self.configText(configuration).write(toFile: configPath, atomically: false, encoding: .utf8)
        self.worker = try await Worker.start(
            configPath: configPath, namespacePath: configuration.namespace?.path, timeout: configuration.timeout,
            logger: logger)
    }

    deinit {
        worker.stop()
    }

    /// Stops the worker thread; pending lookups fail. Safe to call twice.
    public func shutdown() {
        worker.stop()
    }

    public func query(_ name: String, _ type: RecordType) async throws(DNSLookupError) -> [RecordData] {
        try await securedQuery(name, type).result.get()
    }

    public func securedQuery(_ name: String, _ type: RecordType) async -> SecuredAnswer {
        let normal = DNSName.normalize(name)
        let key = AnswerCache.Key(name: normal, type: type)
        if let cached = cache?.securedAnswer(key) { return cached }
        let answer: Worker.Answer = await withCheckedContinuation { continuation in
            worker.submit(Worker.Request(name: normal, type: type, continuation: continuation))
        }
        if let ttl = answer.ttl { cache?.store(answer.result, security: answer.security, for: key, ttl: ttl) }
        return SecuredAnswer(answer.result, security: answer.security)
    }

    public func heldAnswer(_ name: String, _ type: RecordType) -> HeldAnswer? {
        cache?.held(AnswerCache.Key(name: DNSName.normalize(name), type: type))
    }

    /// Answers kept in front of libunbound now.
    public var cachedAnswerCount: Int { cache?.count ?? 0 }

    static func configText(_ configuration: ResolverConfiguration) -> String {
        var lines = ["server:"]
        lines.append("  do-not-query-localhost: no")
        switch configuration.validation {
        case .nonValidating:
            lines.append("  module-config: \"iterator\"")
        case .validating:
            // With a trust anchor libunbound validates every answer itself, asking the server
            // again with CD set after a SERVFAIL (iterator.c), so it does not matter whether the
            // server it forwards to validates too.
            lines.append("  module-config: \"validator iterator\"")
            lines.append("  trust-anchor-signaling: no")
            lines.append("  root-key-sentinel: no")
            if let anchor = configuration.trustAnchor {
                lines.append("  trust-anchor: \"\(anchor.replacingOccurrences(of: "\"", with: ""))\"")
            }
        }
        lines.append("  qname-minimisation: no")
        lines.append("  use-syslog: no")
        lines.append("  verbosity: 0")
        // libunbound answers the special and private zones itself, like the daemon;
        // only a config file switches that off.
        for zone in UnboundDefaultZones.names {
            lines.append("  local-zone: \"\(zone)\" nodefault")
        }
        lines.append("forward-zone:")
        lines.append("  name: \".\"")
        lines.append("  forward-addr: \(configuration.server)@\(configuration.port)")
        return lines.joined(separator: "\n") + "\n"
    }
}

extension DNSResolver {
    final class Worker: @unchecked Sendable {
        struct Request: Sendable {
            var name: String
            var type: RecordType
            var continuation: CheckedContinuation<Answer, Never>
        }

        /// What libunbound said and, for an answer from a server, the TTL it may be kept for.
        struct Answer: Sendable {
            var result: Result<[RecordData], DNSLookupError>
            var ttl: Int?
            var security: DNSSecurity = .insecure

            static func failure(_ error: DNSLookupError) -> Answer { Answer(result: .failure(error), ttl: nil) }
        }

        /// A request in flight, handed to libunbound's callback as its `mydata`.
        final class InFlight {
            let request: Request
            let deadline: ContinuousClock.Instant
            var asyncID: Int32 = 0
            var finished = false

            init(request: Request, deadline: ContinuousClock.Instant) {
                self.request = request
                self.deadline = deadline
            }

            func finish(_ answer: Answer) {
                guard !finished else { return }
                finished = true
                request.continuation.resume(returning: answer)
            }
        }

        private static let setupLock = NSLock()
        private let lock = NSLock()
        private var queue: [Request] = []
        private var stopping = false
        private let wakeRead: Int32
        private let wakeWrite: Int32
        private let timeout: Duration
        private let logger: Logger
        // Touched only by the worker thread.
        private var inFlight: [ObjectIdentifier: InFlight] = [:]

        private init(wakeRead: Int32, wakeWrite: Int32, timeout: Duration, logger: Logger) {
            self.wakeRead = wakeRead
            self.wakeWrite = wakeWrite
            self.timeout = timeout
            self.logger = logger
        }

        static func start(configPath: String, namespacePath: String?, timeout: Duration, logger: Logger) async throws
            -> Worker
        {
            var fds: [Int32] = [0, 0]
            guard pipe(&fds) == 0 else { throw ResolverError(message: "pipe: \(String(cString: strerror(errno)))") }
            for fd in fds {
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            }
            let worker = Worker(wakeRead: fds[0], wakeWrite: fds[1], timeout: timeout, logger: logger)
            try await withCheckedThrowingContinuation { (ready: CheckedContinuation<Void, any Error>) in
                let thread = Thread {
                    worker.run(configPath: configPath, namespacePath: namespacePath, ready: ready)
                }
                thread.name = "mxharness-resolver"
                thread.start()
            }
            return worker
        }

        func submit(_ request: Request) {
            let accepted = lock.withLock { () -> Bool in
                guard !stopping else { return false }
                queue.append(request)
                return true
            }
            guard accepted else {
                request.continuation.resume(
                    returning: .failure(.other(name: request.name, type: request.type, reason: "resolver shut down")))
                return
            }
            wake()
        }

        func stop() {
            let first = lock.withLock { () -> Bool in
                defer { stopping = true }
                return !stopping
            }
            if first { wake() }
        }

        private func wake() {
            var byte: UInt8 = 1
            _ = write(wakeWrite, &byte, 1)
        }

        private func run(configPath: String, namespacePath: String?, ready: CheckedContinuation<Void, any Error>) {
            if let namespacePath {
                do {
                    try NetworkNamespace.enterForCurrentThread(path: namespacePath)
                } catch {
                    ready.resume(throwing: error)
                    return
                }
            }
            // unbound's configuration parser keeps its state in globals (a flex lexer): one at a time.
            Self.setupLock.lock()
            guard let ctx = ub_ctx_create() else {
                Self.setupLock.unlock()
                ready.resume(throwing: ResolverError(message: "ub_ctx_create failed"))
                return
            }
            var status = ub_ctx_config(ctx, configPath)
            if status == 0 { status = ub_ctx_async(ctx, 1) }
            Self.setupLock.unlock()
            guard status == 0 else {
                let message = String(cString: ub_strerror(status))
                ub_ctx_delete(ctx)
                ready.resume(throwing: ResolverError(message: "libunbound configuration \(configPath): \(message)"))
                return
            }
            ready.resume()
            loop(ctx)
            for item in inFlight.values {
                ub_cancel(ctx, item.asyncID)
                item.finish(
                    .failure(.other(name: item.request.name, type: item.request.type, reason: "resolver shut down")))
            }
            inFlight.removeAll()
            ub_ctx_delete(ctx)
            let leftover = lock.withLock { () -> [Request] in
                defer { queue.removeAll() }
                return queue
            }
            for request in leftover {
                request.continuation.resume(
                    returning: .failure(.other(name: request.name, type: request.type, reason: "resolver shut down")))
            }
            close(wakeRead)
            close(wakeWrite)
        }

        private func loop(_ ctx: OpaquePointer) {
            let ubFD = ub_fd(ctx)
            var drain = [UInt8](repeating: 0, count: 64)
            while true {
                let (requests, stop) = lock.withLock { () -> ([Request], Bool) in
                    defer { queue.removeAll() }
                    return (queue, stopping)
                }
                if stop {
                    for request in requests {
                        request.continuation.resume(
                            returning: .failure(
                                .other(name: request.name, type: request.type, reason: "resolver shut down")))
                    }
                    return
                }
                for request in requests { start(request, ctx) }
                expire(ctx)

                var pollTimeout: Int32 = -1
                if let next = inFlight.values.map(\.deadline).min() {
                    let remaining = next - ContinuousClock.now
                    let ms =
                        remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000
                    pollTimeout = Int32(clamping: max(0, ms + 1))
                }
                var fds = [
                    pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
                    pollfd(fd: ubFD, events: Int16(POLLIN), revents: 0),
                ]
                let count = poll(&fds, 2, pollTimeout)
                if count < 0 && errno != EINTR { return }
                if fds[0].revents != 0 {
                    while read(wakeRead, &drain, drain.count) > 0 {}
                }
                if fds[1].revents != 0 {
                    ub_process(ctx)
                }
            }
        }

        private func start(_ request: Request, _ ctx: OpaquePointer) {
            let item = InFlight(request: request, deadline: .now + timeout)
            let unmanaged = Unmanaged.passRetained(item)
            var asyncID: Int32 = 0
            // libunbound reads the name in presentation form: escape what it would read specially.
            let status = ub_resolve_async(
                ctx, DNSName.presentation(request.name), Int32(request.type.code), 1, unmanaged.toOpaque(),
                { mydata, err, result in
                    guard let mydata else { return }
                    let item = Unmanaged<InFlight>.fromOpaque(mydata).takeRetainedValue()
                    item.finish(
                        Worker.interpret(err: err, result: result, name: item.request.name, type: item.request.type))
                    if let result { ub_resolve_free(result) }
                }, &asyncID)
            guard status == 0 else {
                unmanaged.release()
                item.finish(
                    .failure(
                        .other(name: request.name, type: request.type, reason: String(cString: ub_strerror(status)))))
                return
            }
            item.asyncID = asyncID
            if !item.finished {
                inFlight[ObjectIdentifier(item)] = item
            }
        }

        private func expire(_ ctx: OpaquePointer) {
            let now = ContinuousClock.now
            for (key, item) in inFlight {
                if item.finished {
                    inFlight.removeValue(forKey: key)
                } else if item.deadline <= now {
                    // After a successful ub_cancel the callback is never called: release its reference here.
                    if ub_cancel(ctx, item.asyncID) == 0 {
                        Unmanaged.passUnretained(item).release()
                    }
                    item.finish(.failure(.timeout(name: item.request.name, type: item.request.type)))
                    inFlight.removeValue(forKey: key)
                }
            }
        }

        static func interpret(err: Int32, result: UnsafeMutablePointer<ub_result>?, name: String, type: RecordType)
            -> Answer
        {
            guard err == 0, let result else {
                return .failure(.other(name: name, type: type, reason: String(cString: ub_strerror(err))))
            }
            // A bogus answer comes with rcode 0 and its data (libworker.c); a validating server
            // would answer SERVFAIL, and so does this resolver (RFC 4035 5.5).
            if result.pointee.bogus != 0 {
                let why = result.pointee.why_bogus.map { String(cString: $0) } ?? "validation failed"
                return Answer(result: .failure(.bogus(name: name, type: type, reason: why)), ttl: nil, security: .bogus)
            }
            // libunbound's `ttl`: the answer's least TTL, for a negative answer the SOA-derived one.
            return Answer(
                result: records(result, name: name, type: type), ttl: Int(result.pointee.ttl),
                security: result.pointee.secure != 0 ? .secure : .insecure)
        }

        static func records(_ result: UnsafeMutablePointer<ub_result>, name: String, type: RecordType) -> Result<
            [RecordData], DNSLookupError
        > {
            switch result.pointee.rcode {
            case 0:
                guard result.pointee.havedata != 0, let data = result.pointee.data, let lengths = result.pointee.len
                else {
                    return .failure(.nodata(name: name, type: type))
                }
                var records: [RecordData] = []
                var index = 0
                while let pointer = data[index] {
                    let length = Int(lengths[index])
                    let bytes = pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
                        Array(UnsafeBufferPointer(start: $0, count: length))
                    }
                    if let record = RecordDecoder.decode(type, bytes) {
                        records.append(record)
                    }
                    index += 1
                }
                return records.isEmpty ? .failure(.nodata(name: name, type: type)) : .success(records)
            case 3:
                return .failure(.nxdomain(name: name))
            case 2:
                return .failure(.servfail(name: name, type: type))
            case 5:
                return .failure(.refused(name: name, type: type))
            case let rcode:
                return .failure(.other(name: name, type: type, reason: "RCODE \(rcode)"))
            }
        }
    }
}
