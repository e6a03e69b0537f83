import Foundation

/// One value of a run's configuration: a number, a string or a boolean.
public enum ConfigurationValue: Hashable, Sendable, Codable,
    ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral, ExpressibleByStringLiteral, ExpressibleByBooleanLiteral
{
    case number(Double)
    case string(String)
    case bool(Bool)

    public init(floatLiteral value: Double) { self = .number(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }

    // JSON `true` is not a number and `1` is not a boolean, so trying Bool first is unambiguous.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else {
            throw DecodingError.typeMismatch(
                ConfigurationValue.self,
                .init(codingPath: decoder.codingPath, debugDescription: "a configuration value must be a number, a string or a boolean")
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case let .number(number): try container.encode(number)
        case let .string(text): try container.encode(text)
        case let .bool(flag): try container.encode(flag)
        }
    }
}

/// A run's configuration (hyper-parameters) with its canonical JSON text: the
/// same values always give the same text, whatever order they were given in,
/// so the text can key a run in the store (docs/STORE.md, "Canonical configurations").
/// The grid file's points (ADAREvaluation) and the store's runs (ADARStore) are
/// both this type, so a configuration has one canonical text everywhere.
///
/// The text follows RFC 8785 (JSON Canonicalization Scheme) for flat objects:
/// keys sorted by UTF-16 code units, no whitespace, strings with RFC 8785's
/// escapes, numbers in the shortest form that reads back to the same binary64,
/// written as ECMAScript does (`64`, `0.001`, `1e-7`, `1e+21`).
public struct RunConfiguration: Hashable, Sendable, CustomStringConvertible {
    public let values: [String: ConfigurationValue]
    public let canonicalText: String

    /// Refuses NaN and ±∞ (JSON has no spelling for them) and empty keys.
    public init(_ values: [String: ConfigurationValue]) throws(ConfigurationError) {
        for (key, value) in values {
            if key.isEmpty {
                throw ConfigurationError(key: key, reason: "keys must not be empty")
            }
            if case let .number(number) = value, !number.isFinite {
                throw ConfigurationError(key: key, reason: "\(number) is not finite; JSON has no NaN or infinity")
            }
        }
        self.init(validated: values)
    }

    private static func canonicalText(_ values: [String: ConfigurationValue]) -> String {
        let members = CanonicalJSON.sortedKeys(values).map { key in
            CanonicalJSON.string(key) + ":" + CanonicalJSON.value(values[key]!)
        }
        return "{" + members.joined(separator: ",") + "}"
    }

    /// Values already known to be finite, with non-empty keys (the grid file's loader checks them).
    package init(validated values: [String: ConfigurationValue]) {
        self.values = values
        canonicalText = Self.canonicalText(values)
    }

    /// Reads a JSON object of numbers, strings and booleans (canonical or not).
    public init(json: String) throws(ConfigurationError) {
        let decoded: [String: ConfigurationValue]
        do {
            decoded = try JSONDecoder().decode([String: ConfigurationValue].self, from: Data(json.utf8))
        } catch {
            throw ConfigurationError(
                key: (error as? DecodingError).flatMap(Self.failingKey) ?? "",
                reason: "not a JSON object of numbers, strings and booleans: \(json)"
            )
        }
        try self.init(decoded)
    }

    public var description: String { canonicalText }

    public subscript(key: String) -> ConfigurationValue? { values[key] }

    private static func failingKey(_ error: DecodingError) -> String? {
        switch error {
        case let .typeMismatch(_, context), let .valueNotFound(_, context), let .dataCorrupted(context):
            return context.codingPath.last?.stringValue
        default:
            return nil
        }
    }
}

/// A configuration that JSON cannot spell (NaN, ±∞, an empty key) or a text that is not one.
public struct ConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    public let key: String
    public let reason: String

    public init(key: String, reason: String) {
        self.key = key
        self.reason = reason
    }

    public var description: String { key.isEmpty ? "configuration: \(reason)" : "configuration key \"\(key)\": \(reason)" }
}

/// The pieces of RFC 8785 text written for configurations and the store's JSON summary.
public enum CanonicalJSON {
    /// RFC 8785 §3.2.3: keys in the order of their UTF-16 code units.
    public static func sortedKeys<Value>(_ object: [String: Value]) -> [String] {
        object.keys.sorted { $0.utf16.lexicographicallyPrecedes($1.utf16) }
    }

    public static func value(_ value: ConfigurationValue) -> String {
        switch value {
        case let .number(number): return Self.number(number)
        case let .string(text): return string(text)
        case let .bool(flag): return flag ? "true" : "false"
        }
    }

    /// RFC 8785 §3.2.2.2: `"` and `\` escaped, the short escapes for
    /// \b \t \n \f \r, `\u00xx` for the other control characters, the rest as is.
    public static func string(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\u{08}": out += "\\b"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\u{0C}": out += "\\f"
            case "\r": out += "\\r"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// ECMAScript's Number::toString (RFC 8785 §3.2.2.3) of a finite binary64,
    /// built from the shortest round-trip digits that Swift's `description` gives.
    public static func number(_ number: Double) -> String {
        precondition(number.isFinite, "callers refuse non-finite numbers first")
        if number == 0 { return "0" }
        // Swift writes the shortest digits as `123.45`, `1e-05` or `1.2345e+20`.
        let text = number.magnitude.description
        let parts = text.split(separator: "e", maxSplits: 1)
        let exponent = parts.count == 2 ? Int(parts[1])! : 0
        let mantissa = parts[0].split(separator: ".", maxSplits: 1)
        let integerDigits = String(mantissa[0])
        let fractionDigits = mantissa.count == 2 ? String(mantissa[1]) : ""
        var digits = Array(integerDigits + fractionDigits)
        // The value is 0.d₁d₂…d_k × 10ⁿ with d₁ ≠ 0 (ECMAScript's k and n).
        var n = integerDigits.count + exponent
        while digits.first == "0" { digits.removeFirst(); n -= 1 }
        while digits.last == "0" { digits.removeLast() }
        let k = digits.count
        let s = String(digits)
        let body: String
        if k <= n && n <= 21 {
            body = s + String(repeating: "0", count: n - k)
        } else if 0 < n && n <= 21 {
            body = String(digits[..<n]) + "." + String(digits[n...])
        } else if -6 < n && n <= 0 {
            body = "0." + String(repeating: "0", count: -n) + s
        } else {
            let e = n - 1
            let exponentText = (e < 0 ? "-" : "+") + String(e.magnitude)
            body = (k == 1 ? s : String(digits[0]) + "." + String(digits[1...])) + "e" + exponentText
        }
        return (number < 0 ? "-" : "") + body
    }
}
