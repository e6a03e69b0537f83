import Foundation
import ADARCore

/// A JSON value as the fixtures, the port protocol and the command line write
/// and read it (docs/PORTING.md §1, §3). Object keys keep the order they were
/// written or read in, so output is byte-stable from run to run.
///
/// Integers and reals are distinct cases: a `tcId` prints as `12`, a real as
/// Swift's shortest round-trip form (`0.1`, `1e-05`), which every JSON reader
/// maps back to the same binary64 value. NaN and ±∞ print as `null`, and
/// `null` reads back as NaN where a real is expected.
public indirect enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case let (.bool(a), .bool(b)): a == b
        case let (.integer(a), .integer(b)): a == b
        case let (.number(a), .number(b)): a.bitPattern == b.bitPattern
        case let (.string(a), .string(b)): a == b
        case let (.array(a), .array(b)): a == b
        case let (.object(a), .object(b)): a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// A real, or `null` when it is NaN or infinite.
    public static func real(_ x: Double) -> JSONValue { x.isFinite ? .number(x) : .null }
    public static func reals(_ xs: some Sequence<Double>) -> JSONValue { .array(xs.map(real)) }
    public static func integers(_ xs: [Int]) -> JSONValue { .array(xs.map(JSONValue.integer)) }

    // MARK: - Access

    public subscript(key: String) -> JSONValue? {
        guard case let .object(fields) = self else { return nil }
        return fields.first { $0.0 == key }?.1
    }

    public var objectFields: [(String, JSONValue)]? {
        if case let .object(fields) = self { fields } else { nil }
    }
    public var arrayValue: [JSONValue]? {
        if case let .array(items) = self { items } else { nil }
    }
    public var stringValue: String? {
        if case let .string(s) = self { s } else { nil }
    }
    /// An integer; an integral real (`12.0`, `1e3`) is one too, as in JSON Schema.
    public var intValue: Int? {
        switch self {
        case let .integer(i): i
        case let .number(x) where x == x.rounded() && abs(x) < 0x1p53: Int(x)
        default: nil
        }
    }
    /// A real: integers widen, `null` reads as NaN (docs/PORTING.md §1).
    public var doubleValue: Double? {
        switch self {
        case let .number(x): x
        case let .integer(i): Double(i)
        case .null: .nan
        default: nil
        }
    }
    public var doubleArray: [Double]? {
        arrayValue.flatMap { items in
            let values = items.compactMap(\.doubleValue)
            return values.count == items.count ? values : nil
        }
    }

    // MARK: - Writing

    /// One line, no spaces: a protocol request or response, or a command's JSON output.
    public var rendered: String {
        switch self {
        case let .array(items): "[" + items.map(\.rendered).joined(separator: ",") + "]"
        case let .object(fields): "{" + fields.map { Self.quoted($0.0) + ":" + $0.1.rendered }.joined(separator: ",") + "}"
        default: scalarText
        }
    }

    /// Pretty-printed with two-space indentation; arrays of scalars stay on one line (the fixture files).
    public func prettyPrinted(indent: Int = 0) -> String {
        let pad = String(repeating: "  ", count: indent + 1), close = String(repeating: "  ", count: indent)
        switch self {
        case let .array(items):
            if items.isEmpty { return "[]" }
            if items.allSatisfy(\.isScalar) { return "[" + items.map(\.scalarText).joined(separator: ", ") + "]" }
            return "[\n" + items.map { pad + $0.prettyPrinted(indent: indent + 1) }.joined(separator: ",\n") + "\n" + close + "]"
        case let .object(fields):
            if fields.isEmpty { return "{}" }
            if fields.allSatisfy({ $0.1.isScalar }) && fields.count <= 6 {
                return "{" + fields.map { Self.quoted($0.0) + ": " + $0.1.scalarText }.joined(separator: ", ") + "}"
            }
            return "{\n" + fields.map { pad + Self.quoted($0.0) + ": " + $0.1.prettyPrinted(indent: indent + 1) }
                .joined(separator: ",\n") + "\n" + close + "}"
        default:
            return scalarText
        }
    }

    private var scalarText: String {
        switch self {
        case .null: "null"
        case let .bool(b): b ? "true" : "false"
        case let .integer(i): "\(i)"
        case let .number(x): x.isFinite ? "\(x)" : "null"
        case let .string(s): Self.quoted(s)
        case .array, .object: rendered
        }
    }

    private var isScalar: Bool {
        switch self {
        case .array, .object: false
        default: true
        }
    }

    /// One string escaper for every JSON this project writes (RFC 8785's, `CanonicalJSON`).
    static func quoted(_ s: String) -> String { CanonicalJSON.string(s) }
}

// MARK: - Reading

/// Why a text is not JSON, with the byte offset where reading stopped.
public struct JSONParseError: Error, Equatable, CustomStringConvertible {
    public let offset: Int
    public let reason: String
    public var description: String { "byte \(offset): \(reason)" }
}

extension JSONValue {
    /// Parses RFC 8259 JSON. A number without fraction or exponent that fits
    /// an `Int` reads as `.integer`; duplicate keys are an error (a fixture
    /// must mean one thing).
    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        var parser = Parser(bytes: Array(text.utf8))
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.index == parser.bytes.count else { throw parser.error("trailing characters after the document") }
        return value
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        func error(_ reason: String) -> JSONParseError { JSONParseError(offset: index, reason: reason) }

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[index]) { index += 1 }
        }

        mutating func expect(_ literal: String) throws(JSONParseError) {
            let expected = Array(literal.utf8)
            guard index + expected.count <= bytes.count, Array(bytes[index ..< index + expected.count]) == expected else {
                throw error("expected \(literal)")
            }
            index += expected.count
        }

        mutating func value(depth: Int) throws(JSONParseError) -> JSONValue {
            guard depth < 64 else { throw error("nesting deeper than 64") }
            guard index < bytes.count else { throw error("unexpected end of text") }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try expect("true"); return .bool(true)
            case UInt8(ascii: "f"): try expect("false"); return .bool(false)
            case UInt8(ascii: "n"): try expect("null"); return .null
            default: return try number()
            }
        }

        mutating func object(depth: Int) throws(JSONParseError) -> JSONValue {
            index += 1
            var fields = [(String, JSONValue)]()
            // A set, not a scan of `fields`: an object of many keys must parse in linear time.
            var keys = Set<String>()
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(fields) }
            while true {
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a key string") }
                let key = try string()
                guard keys.insert(key).inserted else { throw error("duplicate key \"\(key)\"") }
                skipSpace()
                try expect(":")
                skipSpace()
                fields.append((key, try value(depth: depth + 1)))
                skipSpace()
                guard index < bytes.count else { throw error("unterminated object") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(fields) }
                throw error("expected , or } in object")
            }
        }

        mutating func array(depth: Int) throws(JSONParseError) -> JSONValue {
            index += 1
            var items = [JSONValue]()
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
            while true {
                skipSpace()
                items.append(try value(depth: depth + 1))
                skipSpace()
                guard index < bytes.count else { throw error("unterminated array") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
                throw error("expected , or ] in array")
            }
        }

        mutating func string() throws(JSONParseError) -> String {
            index += 1
            var scalars = String.UnicodeScalarView()
            var raw = [UInt8]()
            func flush() { scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars); raw.removeAll() }
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") { index += 1; flush(); return String(scalars) }
                guard byte >= 0x20 else { throw error("control character in string") }
                if byte != UInt8(ascii: "\\") { raw.append(byte); index += 1; continue }
                flush()
                index += 1
                guard index < bytes.count else { break }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800..<0xDC00).contains(code) {
                        try expect("\\u")
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw error("invalid \\u escape") }
                    scalars.append(scalar)
                default: throw error("invalid escape")
                }
            }
            throw error("unterminated string")
        }

        mutating func hex4() throws(JSONParseError) -> UInt32 {
            guard index + 4 <= bytes.count, let code = UInt32(String(decoding: bytes[index ..< index + 4], as: UTF8.self), radix: 16)
            else { throw error("expected four hex digits") }
            index += 4
            return code
        }

        mutating func number() throws(JSONParseError) -> JSONValue {
            let start = index
            func digits() -> Int {
                let from = index
                while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
                return index - from
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            let intStart = index
            guard digits() > 0 else { throw error("expected a value") }
            guard bytes[intStart] != UInt8(ascii: "0") || index - intStart == 1 else { throw error("leading zero in number") }
            var isInteger = true
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                isInteger = false
                guard digits() > 0 else { throw error("expected digits after the decimal point") }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                index += 1
                isInteger = false
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard digits() > 0 else { throw error("expected exponent digits") }
            }
            let text = String(decoding: bytes[start ..< index], as: UTF8.self)
            if isInteger, let i = Int(text) { return .integer(i) }
            guard let x = Double(text) else { throw error("unreadable number \(text)") }
            return .number(x)
        }
    }
}
