import Foundation

/// A JSON document as a value: what fixtures, requests and responses are made
/// of (docs/PORTING.md). Numbers are binary64; `null` stands for NaN.
public indirect enum JSONValue: Equatable, Sendable, Decodable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    /// Keys in document order, so rendered requests are stable.
    case object([(String, JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case let (.bool(a), .bool(b)): a == b
        case let (.number(a), .number(b)): a == b || (a.isNaN && b.isNaN)
        case let (.string(a), .string(b)): a == b
        case let (.array(a), .array(b)): a == b
        case let (.object(a), .object(b)): a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// Parses one JSON text; nil when it is not JSON.
    public init?(parsing text: String) {
        self.init(data: Data(text.utf8))
    }

    public init?(data: Data) {
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: data) else { return nil }
        self = value
    }

    /// One line of JSON. Numbers print in shortest round-trip form (integral
    /// values without a fraction), NaN and ±∞ as `null`.
    public var rendered: String {
        switch self {
        case .null: return "null"
        case let .bool(b): return b ? "true" : "false"
        case let .number(x): return Self.render(x)
        case let .string(s): return Self.quoted(s)
        case let .array(items): return "[" + items.map(\.rendered).joined(separator: ",") + "]"
        case let .object(fields):
            return "{" + fields.map { Self.quoted($0.0) + ":" + $0.1.rendered }.joined(separator: ",") + "}"
        }
    }

    static func render(_ x: Double) -> String {
        guard x.isFinite else { return "null" }
        if x == x.rounded(), abs(x) < 0x1p53, !(x == 0 && x.sign == .minus) { return String(Int64(x)) }
        return "\(x)"
    }

    private static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    // MARK: Access

    public subscript(key: String) -> JSONValue? {
        guard case let .object(fields) = self else { return nil }
        return fields.first { $0.0 == key }?.1
    }

    public var objectFields: [(String, JSONValue)]? {
        if case let .object(fields) = self { fields } else { nil }
    }

    public var arrayItems: [JSONValue]? {
        if case let .array(items) = self { items } else { nil }
    }

    public var string: String? {
        if case let .string(s) = self { s } else { nil }
    }

    /// A number; `null` reads as NaN (docs/PORTING.md §1).
    public var double: Double? {
        switch self {
        case let .number(x): x
        case .null: .nan
        default: nil
        }
    }

    public var int: Int? {
        guard case let .number(x) = self, x == x.rounded(), abs(x) < 0x1p53 else { return nil }
        return Int(x)
    }

    /// A real number as a JSON value; NaN and ±∞, which JSON cannot write, are `null`.
    public static func real(_ x: Double) -> JSONValue { x.isFinite ? .number(x) : .null }

    public static func reals(_ xs: some Sequence<Double>) -> JSONValue { .array(xs.map(real)) }
}

extension JSONValue {
    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        if let keyed = try? decoder.container(keyedBy: Key.self) {
            // Sorted keys: a stable order whatever the decoder's dictionary order.
            self = .object(try keyed.allKeys.map(\.stringValue).sorted().map {
                ($0, try keyed.decode(JSONValue.self, forKey: Key(stringValue: $0)))
            })
            return
        }
        if var unkeyed = try? decoder.unkeyedContainer() {
            var items = [JSONValue]()
            while !unkeyed.isAtEnd { items.append(try unkeyed.decode(JSONValue.self)) }
            self = .array(items)
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() { self = .null }
        else if let b = try? single.decode(Bool.self) { self = .bool(b) }
        else if let x = try? single.decode(Double.self) { self = .number(x) }
        else { self = .string(try single.decode(String.self)) }
    }
}
