import Foundation
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
    public func respond(to line: String) -> String {
        guard let request = try? JSONValue.parse(line) else {
            return JSONValue.object([
                ("id", .null), ("error", EvaluationError.malformed(field: "request", reason: "the request is not JSON").json),
            ]).rendered
        }
        guard let name = request["op"]?.stringValue else {
            return JSONValue.object([
                ("id", request["id"] ?? .null), ("error", EvaluationError.malformed(field: "op", reason: "no op").json),
            ]).rendered
        }
        if name == "hello" { return hello.rendered }
        let id = request["id"] ?? .null
        do throws(EvaluationError) {
            guard let operation = FixtureOperation(rawValue: name), operations.contains(operation) else {
                throw .malformed(field: "op", reason: "unknown operation \(name)")
            }
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
