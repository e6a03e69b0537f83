import Foundation

/// A minimal JSON writer: binary64 values print in Swift's shortest
/// round-trip form, so a reader recovers every bit; NaN and ±∞ become null.
indirect enum JSONText {
    case number(Double)
    case integer(Int)
    case string(String)
    case bool(Bool)
    case array([JSONText])
    case object([(String, JSONText)])

    var rendered: String {
        switch self {
        case let .number(x): x.isFinite ? "\(x)" : "null"
        case let .integer(i): "\(i)"
        case let .string(s): Self.quoted(s)
        case let .bool(b): b ? "true" : "false"
        case let .array(items): "[" + items.map(\.rendered).joined(separator: ",") + "]"
        case let .object(fields): "{" + fields.map { Self.quoted($0.0) + ":" + $0.1.rendered }.joined(separator: ",") + "}"
        }
    }

    private static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
