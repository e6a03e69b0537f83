import Foundation
import ADARCore
import ADARReference

/// Something that answers the operations of docs/PORTING.md §2 in process:
/// what `adar port-server` serves over the protocol.
public protocol ConformancePort: Sendable {
    var name: String { get }
    var precision: Precision { get }
    var operations: [String] { get }
    func answer(operation: String, input: JSONValue) throws(PortRefusal) -> JSONValue
}

/// The operations of docs/PORTING.md §2, in the order of its table.
public let conformanceOperations = ["schedule", "forward", "transition", "synthesize", "philox", "normals", "loss"]

extension ConformancePort {
    /// The handshake answer (docs/PORTING.md §3).
    public var hello: JSONValue {
        .object([
            ("name", .string(name)), ("precision", .string(precision.rawValue)),
            ("operations", .array(operations.map(JSONValue.string))),
        ])
    }

    /// One protocol response line for one request line (docs/PORTING.md §3).
    public func respond(to line: String) -> String {
        guard let request = JSONValue(parsing: line) else {
            return JSONValue.object([
                ("id", .null), ("error", PortRefusal.invalid("request", "the request is not JSON").json),
            ]).rendered
        }
        guard let operation = request["op"]?.string else {
            return JSONValue.object([("id", request["id"] ?? .null), ("error", PortRefusal.invalid("op", "no op").json)]).rendered
        }
        if operation == "hello" { return hello.rendered }
        let id = request["id"] ?? .null
        do throws(PortRefusal) {
            guard operations.contains(operation) else { throw PortRefusal.invalid("op", "unknown operation \(operation)") }
            let output = try answer(operation: operation, input: request["input"] ?? .object([]))
            return JSONValue.object([("id", id), ("output", output)]).rendered
        } catch {
            return JSONValue.object([("id", id), ("error", error.json)]).rendered
        }
    }

    /// Serves the protocol until end of input: one response line per request line.
    public func serve(readLine: () -> String?, writeLine: (String) -> Void) {
        while let line = readLine() {
            if line.allSatisfy(\.isWhitespace) { continue }
            writeLine(respond(to: line))
        }
    }
}

/// Refuses non-finite values of `field` as S5 does (row 0: a request is one row).
func requireFinite(_ values: [Double], field: String) throws(PortRefusal) {
    if let k = values.firstIndex(where: { !$0.isFinite }) {
        throw PortRefusal(ADARError.nonFinite(row: 0, field: field, component: k))
    }
}

/// The operations whose answers do not depend on the port's precision.
enum ExactOperations {
    /// S8: one Philox4x32-10 block.
    static func philox(_ input: OperationInput) throws(PortRefusal) -> JSONValue {
        let c = try input.unsigned32s("counter", count: 4), k = try input.unsigned32s("key", count: 2)
        let w = Philox4x32.block(counter: SIMD4(c[0], c[1], c[2], c[3]), key: SIMD2(k[0], k[1]))
        return .object([("words", .array([w.x, w.y, w.z, w.w].map { .number(Double($0)) }))])
    }

    /// The S8 stream's coordinates of a `normals` request.
    static func noiseCoordinates(_ input: OperationInput) throws(PortRefusal) -> (noise: GaussianNoise, row: UInt64, dimension: Int) {
        let seed = try input.unsigned64("seed"), row = try input.unsigned64("row")
        let stream = try input.integer("stream"), d = try input.integer("dimension")
        guard let stream32 = UInt32(exactly: stream) else { throw .invalid("stream", "stream must be an unsigned 32-bit integer") }
        guard d >= 1 else { throw PortRefusal(ADARError.shapeMismatch(field: "dimension", expected: 1, actual: d)) }
        return (GaussianNoise(seed: seed, stream: stream32), row, d)
    }
}
