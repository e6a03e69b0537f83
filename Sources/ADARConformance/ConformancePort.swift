import Foundation
import ADARCore
import ADARProtocol

/// Something that answers the operations of docs/PORTING.md §2 in process:
/// what `adar port-server` serves over the protocol.
public protocol ConformancePort: Sendable {
    var name: String { get }
    var precision: Precision { get }
    var operations: [FixtureOperation] { get }
    func answer(operation: FixtureOperation, input: JSONValue) throws(EvaluationError) -> JSONValue
}

extension ConformancePort {
    /// The handshake answer (docs/PORTING.md §3).
    public var hello: JSONValue {
        .object([
            ("name", .string(name)), ("precision", .string(precision.rawValue)),
            ("operations", .array(operations.map { .string($0.rawValue) })),
        ])
    }

    /// One protocol response line for one request line (docs/PORTING.md §3).
    /// A line that is not JSON is answered with the id it starts with, if any.
    public func respond(to line: String) -> String {
        let request: JSONValue
        do {
            request = try JSONValue.parse(line)
        } catch {
            return Self.errorLine(
                id: RequestLine.leadingID(of: line), .malformed(field: "request", reason: "the request is not JSON: \(error)"))
        }
        let id = request["id"] ?? .null
        guard let name = request["op"]?.stringValue else {
            return Self.errorLine(id: id, .malformed(field: "op", reason: "no op: a request needs \"op\": \"<operation>\""))
        }
        if name == "hello" { return hello.rendered }
        do throws(EvaluationError) {
            guard let operation = FixtureOperation(rawValue: name), operations.contains(operation) else {
                throw .malformed(field: "op", reason: "unknown operation \(name)")
            }
            let output = try answer(operation: operation, input: request["input"] ?? .object([]))
            return JSONValue.object([("id", id), ("output", output)]).rendered
        } catch {
            return Self.errorLine(id: id, error)
        }
    }

    /// One response line per request line until end of input; blank lines
    /// (JSON whitespace only) are not requests and get no answer.
    public func serve(nextLine: () -> InputLine?, writeLine: (String) -> Void) {
        while let line = nextLine() {
            switch line {
            case let .text(text):
                if text.utf8.allSatisfy(RequestLine.isJSONWhitespace) { continue }
                writeLine(respond(to: text))
            case let .tooLong(start, byteCount):
                let error = ADARError.limitExceeded(field: "request", limit: ADARLimits.maxRequestBytes, actual: byteCount)
                writeLine(Self.errorLine(id: RequestLine.leadingID(of: start), .refused(error)))
            }
        }
    }

    private static func errorLine(id: JSONValue, _ error: EvaluationError) -> String {
        JSONValue.object([("id", id), ("error", error.json)]).rendered
    }
}

/// What a request line that is not JSON still says (docs/PORTING.md §3).
public enum RequestLine {
    static func isJSONWhitespace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }

    /// The id a line that is not JSON starts with, when it starts as the
    /// runner writes requests, `{"id": "transition.json#12", …`: a complete
    /// string, or an integer followed by `,`, `}` or a space. Null otherwise.
    public static func leadingID(of line: String) -> JSONValue {
        let bytes = Array(line.utf8)
        var i = 0
        func skipSpace() { while i < bytes.count, isJSONWhitespace(bytes[i]) { i += 1 } }
        func take(_ literal: String) -> Bool {
            guard bytes[i...].starts(with: literal.utf8) else { return false }
            i += literal.utf8.count
            return true
        }
        skipSpace()
        guard take("{") else { return .null }
        skipSpace()
        guard take("\"id\"") else { return .null }
        skipSpace()
        guard take(":") else { return .null }
        skipSpace()
        let start = i
        if take("\"") {
            while i < bytes.count, bytes[i] != UInt8(ascii: "\"") { i += bytes[i] == UInt8(ascii: "\\") ? 2 : 1 }
            guard i < bytes.count else { return .null }
            i += 1
        } else {
            while i < bytes.count, bytes[i] == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) { i += 1 }
            // Without a delimiter after it, the integer may be cut short.
            guard i < bytes.count, bytes[i] == UInt8(ascii: ",") || bytes[i] == UInt8(ascii: "}") || isJSONWhitespace(bytes[i])
            else { return .null }
        }
        switch try? JSONValue.parse(String(decoding: bytes[start..<i], as: UTF8.self)) {
        case let id? where id.stringValue != nil || id.intValue != nil: return id
        default: return .null
        }
    }
}

/// Reads the lines of a file descriptor through a `LineSplitter` (at most
/// `ADARLimits.maxRequestBytes` bytes of any one line are held).
public struct FileLineReader {
    private let fileDescriptor: Int32
    private var splitter: LineSplitter
    private var chunk = [UInt8](repeating: 0, count: 1 << 16)
    private var ready: [InputLine] = [], head = 0
    private var ended = false

    /// `limit` is `ADARLimits.maxRequestBytes` but in tests of the reader itself.
    public init(fileDescriptor: Int32, limit: Int = ADARLimits.maxRequestBytes) {
        self.fileDescriptor = fileDescriptor
        splitter = LineSplitter(maximumBytes: limit)
    }

    /// The next line, or nil at end of input (or on a read error).
    public mutating func next() -> InputLine? {
        while head == ready.count {
            guard !ended else { return nil }
            ready = []
            head = 0
            let count = chunk.withUnsafeMutableBytes { read(fileDescriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            if count > 0 {
                ready = chunk.withUnsafeBytes { splitter.feed(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            } else {
                ended = true
                ready = splitter.finish()
            }
        }
        head += 1
        return ready[head - 1]
    }
}
