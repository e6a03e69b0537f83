import Foundation
import Testing
import ADARCore
import ADARProtocol

/// `adar port-server` (docs/PORTING.md §3) under a few thousand random and
/// mutated request lines, sent over one process's stdin: it must exit
/// normally (never by a signal), answer exactly one line per request line in
/// order, and every answer must be a well-formed output or error object.
///
/// The requests start from the committed fixtures/ and are mutated by a
/// seeded generator. Replay a failure with the seed it prints:
///
///     ADAR_SEED=<seed> swift test --filter PortServerFuzzTests
@Suite("port-server fuzz: one well-formed answer per request line, never a trap")
struct PortServerFuzzTests {
    static let defaultSeed: UInt64 = 0x4144_4152_2d66_757a
    static var seed: UInt64 {
        ProcessInfo.processInfo.environment["ADAR_SEED"].flatMap { UInt64($0) } ?? defaultSeed
    }
    static let requestsPerRun = 2_000

    @Test("random and mutated requests each get one well-formed answer", arguments: ["optimised", "reference"])
    func fuzz(implementation: String) throws {
        let seed = Self.seed
        let replay = "seed \(seed); replay: ADAR_SEED=\(seed) swift test --filter PortServerFuzzTests"
        var fuzzer = RequestFuzzer(seed: seed, seeds: try RequestFuzzer.fixtureRequests())
        let requests = (0..<Self.requestsPerRun).map { _ in fuzzer.next() }
        let input = Data(requests.flatMap { $0 + [UInt8(ascii: "\n")] })
        let result = try ProcessResult.run(
            try ADARExecutable.url(), ["port-server", "--implementation", implementation], standardInput: input)
        #expect(!result.endedBySignal, "port-server was killed by a signal: \(result.standardError.suffix(2_000))\n\(replay)")
        #expect(result.status == 0, "port-server exited \(result.status): \(result.standardError.suffix(2_000))\n\(replay)")
        let problems = ResponseValidator.problems(requests: requests, responses: result.standardOutput)
        #expect(problems.isEmpty, "\(problems.count) bad answers, the first: \(problems.prefix(5).joined(separator: "\n"))\n\(replay)")
    }

    // MARK: The checker can fail

    static let valid = #"{"id":"a#1","op":"philox","input":{"counter":[0,0,0,0],"key":[0,0]}}"#
    static let answer = #"{"id":"a#1","output":{"words":[1,2,3,4]}}"#

    static func problems(_ requests: [String], _ responses: [String]) -> [String] {
        ResponseValidator.problems(requests: requests.map { Array($0.utf8) }, responses: responses.joined(separator: "\n") + "\n")
    }

    @Test("the validator accepts a well-formed answer and an error object")
    func validatorAccepts() {
        let error = #"{"id":"a#2","error":{"kind":"limitExceeded","field":"steps","message":"too many"}}"#
        let refused = #"{"id":"a#2","op":"schedule","input":{}}"#
        #expect(Self.problems([Self.valid, refused, "not json"], [
            Self.answer, error, #"{"id":null,"error":{"kind":"invalidInput","field":"request","message":"not JSON"}}"#,
        ]).isEmpty)
    }

    @Test("the validator rejects a missing, an extra, a non-JSON or a mis-numbered answer line")
    func validatorRejectsWrongLineCount() {
        #expect(!Self.problems([Self.valid, Self.valid], [Self.answer]).isEmpty, "one answer is missing")
        #expect(!Self.problems([Self.valid], [Self.answer, Self.answer]).isEmpty, "one answer too many")
        #expect(!Self.problems([Self.valid], ["{\"id\":\"a#1\",\"output\""]).isEmpty, "an answer that is not JSON")
        #expect(!Self.problems([Self.valid], [#"{"id":"a#9","output":{"words":[1,2,3,4]}}"#]).isEmpty, "the wrong id")
    }

    @Test("a line that is not JSON is answered with the id it starts with")
    func truncatedLineKeepsItsID() {
        let error = #"{"kind":"invalidInput","field":"request","message":"not JSON"}"#
        let truncated = #"{"id":"a#3","op":"sched"#
        #expect(Self.problems([truncated], [#"{"id":"a#3","error":"# + error + "}"]).isEmpty)
        #expect(!Self.problems([truncated], [#"{"id":null,"error":"# + error + "}"]).isEmpty, "the id was lost")
        #expect(Self.problems([#"{"id":12"#], [#"{"id":null,"error":"# + error + "}"]).isEmpty, "12 may be cut short")
        #expect(Self.problems([#"{"id":12,"o"#], [#"{"id":12,"error":"# + error + "}"]).isEmpty)
    }

    @Test("the validator rejects a malformed output or error object")
    func validatorRejectsMalformedAnswers() {
        for bad in [
            #"{"id":"a#1","output":{"words":[1,2,3]},"error":{}}"#,                          // both output and error
            #"{"id":"a#1","output":{"word":[1,2,3,4]}}"#,                                    // the wrong output field
            #"{"id":"a#1","output":{"words":"1,2,3,4"}}"#,                                   // the wrong type
            #"{"id":"a#1","error":{"kind":"nonFinite","message":"no field"}}"#,              // no field
            #"{"id":"a#1","error":{"kind":"crash","field":"x","message":"unknown kind"}}"#,  // an unknown kind
            #"{"id":"a#1"}"#,                                                                // neither
        ] {
            #expect(!Self.problems([Self.valid], [bad]).isEmpty, "\(bad) must be rejected")
        }
    }
}

/// Checks port-server's answers to a list of request lines (docs/PORTING.md §3).
enum ResponseValidator {
    static let errorKinds = Set(ADARError.kinds + ["limitExceeded", "invalidInput"])

    /// One line per problem, naming the request's line number; empty when every answer is well formed.
    static func problems(requests: [[UInt8]], responses: String) -> [String] {
        var lines = responses.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.last == "" else { return ["the output does not end with a newline"] }
        lines.removeLast()
        var problems = [String]()
        if lines.count != requests.count {
            problems.append("\(requests.count) request lines got \(lines.count) answer lines")
        }
        for (number, (request, response)) in zip(requests, lines).enumerated() {
            if let problem = problem(request: String(decoding: request, as: UTF8.self), response: response) {
                problems.append("line \(number + 1): \(problem)\n  request: \(String(decoding: request.prefix(300), as: UTF8.self))\n  answer: \(response.prefix(300))")
            }
        }
        return problems
    }

    /// What is wrong with one answer, or nil.
    static func problem(request line: String, response answer: String) -> String? {
        guard let response = try? JSONValue.parse(answer), let fields = response.objectFields else {
            return "the answer is not a JSON object"
        }
        let request = try? JSONValue.parse(line)
        if let request, request["op"]?.stringValue == "hello" {
            return Set(fields.map(\.0)) == ["name", "precision", "operations"] ? nil : "not a hello answer"
        }
        guard let id = response["id"] else { return "no id" }
        let expected = request.map { $0["id"] ?? .null } ?? leadingID(line)
        guard id == expected else { return "id \(id.rendered), expected \(expected.rendered)" }
        let keys = fields.map(\.0)
        if keys == ["id", "error"] { return errorProblem(response["error"]!) }
        guard keys == ["id", "output"] else { return "keys \(keys): need id and one of output, error" }
        guard let name = request?["op"]?.stringValue, let operation = FixtureOperation(rawValue: name) else {
            return "an output for a request with no valid op"
        }
        return outputProblem(response["output"]!, operation)
    }

    /// The id a line that is not JSON starts with, as the runner writes
    /// requests: `{"id": "<string>"` or `{"id": <integer>` and a delimiter.
    static func leadingID(_ line: String) -> JSONValue {
        let pattern = #/^[ \t\r]*\{[ \t\r]*"id"[ \t\r]*:[ \t\r]*(?<id>"(?:[^"\\]|\\.)*"|-?[0-9]+(?=[ \t\r,}]))/#
        guard let match = line.prefixMatch(of: pattern), let id = try? JSONValue.parse(String(match.id)),
              id.stringValue != nil || id.intValue != nil else { return .null }
        return id
    }

    static func errorProblem(_ error: JSONValue) -> String? {
        guard let fields = error.objectFields, fields.map(\.0) == ["kind", "field", "message"] else {
            return "the error object needs exactly kind, field, message"
        }
        guard fields.allSatisfy({ $0.1.stringValue != nil }) else { return "kind, field and message must be strings" }
        guard errorKinds.contains(error["kind"]!.stringValue!) else { return "unknown error kind \(error["kind"]!.rendered)" }
        guard !(error["message"]!.stringValue!.isEmpty) else { return "an empty message" }
        return nil
    }

    static func outputProblem(_ output: JSONValue, _ operation: FixtureOperation) -> String? {
        guard let fields = output.objectFields, fields.map(\.0) == operation.outputFields else {
            return "the \(operation) output needs exactly \(operation.outputFields)"
        }
        for (name, value) in fields {
            let wellTyped = switch name {
            case "status": value.stringValue.map { RowStatus(rawValue: $0) != nil } ?? false
            case "timestep", "hardestCandidate": value.intValue != nil
            case "words": value.arrayValue.map { $0.count == 4 && $0.allSatisfy { $0.intValue.map { UInt32(exactly: $0) != nil } ?? false } } ?? false
            case "poolGradient", "w1", "w2": value.arrayValue?.allSatisfy(isReals) ?? false
            case "negativeGenerator": ["denoised", "forward", "fallback"].contains(value.stringValue ?? "")
            case "firstMoment", "secondMoment":
                value.objectFields.map { $0.map(\.0) == ["w1", "b1", "w2", "b2"] } ?? false
                    && [value["w1"]!, value["w2"]!].allSatisfy { $0.arrayValue?.allSatisfy(isReals) ?? false }
                    && isReals(value["b1"]!) && isReals(value["b2"]!)
            case "aStar", "retention", "positiveScore", "referenceNegativeScore", "syntheticScore", "loss", "ratio": isReal(value)
            default: isReals(value)
            }
            if !wellTyped { return "\(operation) output field \(name) is not well typed: \(value.rendered.prefix(100))" }
        }
        return nil
    }

    static func isReal(_ value: JSONValue) -> Bool {
        switch value {
        case .null, .integer, .number: true
        default: false
        }
    }

    static func isReals(_ value: JSONValue) -> Bool { value.arrayValue?.allSatisfy(isReal) ?? false }
}

/// Seeded request lines: fixture requests, mutated (docs/PORTING.md §2, §3).
struct RequestFuzzer {
    private var generator: SeededGenerator
    private let seeds: [JSONValue]

    init(seed: UInt64, seeds: [JSONValue]) {
        generator = SeededGenerator(seed: seed)
        self.seeds = seeds
    }

    /// Every test of the committed fixtures as a protocol request.
    static func fixtureRequests() throws -> [JSONValue] {
        let folder = ADARExecutable.repositoryRoot.appendingPathComponent("fixtures")
        var requests = [JSONValue]()
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() where name.hasSuffix(".json") {
            let file = try JSONValue.parse(String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8))
            for group in file["testGroups"]?.arrayValue ?? [] {
                for test in group["tests"]?.arrayValue ?? [] {
                    guard let op = test["operation"] ?? group["operation"], let input = test["input"], let tcId = test["tcId"]
                    else { continue }
                    requests.append(.object([("id", .string("\(name)#\(tcId.rendered)")), ("op", op), ("input", input)]))
                }
            }
        }
        guard !requests.isEmpty else { throw ProcessRunError("no fixture requests in \(folder.path)") }
        return requests
    }

    /// One request line (no newline; never blank).
    mutating func next() -> [UInt8] {
        let request = seeds[Int.random(in: 0..<seeds.count, using: &generator)]
        let line: [UInt8]
        switch Int.random(in: 0..<20, using: &generator) {
        case 0: line = Array(request.rendered.utf8)                                    // unchanged
        case 1...6: line = Array(mutateOneNode(request).rendered.utf8)                 // one value replaced or removed
        case 7...8: line = Array(mutateOneNode(mutateOneNode(request)).rendered.utf8)
        case 9...10: line = Array(awkwardInteger(request).rendered.utf8)               // a size, index or word
        case 11: line = Array(withField(request, "op", randomValue()).rendered.utf8)    // a wrong op
        case 12: line = Array(withField(request, "id", randomValue()).rendered.utf8)    // an odd id
        case 13: line = Array(withField(request, "extra\(generator.next() % 9)", randomValue()).rendered.utf8)
        case 14...15:                                                                  // truncated JSON
            let text = Array(request.rendered.utf8)
            line = Array(text.prefix(Int.random(in: 1..<text.count, using: &generator)))
        case 16: line = flipBytes(Array(request.rendered.utf8))
        case 17: line = Array(scalingReals(request).rendered.utf8)                    // valid shape, extreme magnitudes
        default: line = randomBytes()
        }
        return line.allSatisfy { [0x20, 0x09, 0x0D].contains($0) } || line.isEmpty ? Array("x".utf8) + line : line
    }

    /// Replaces or removes one value anywhere in the request.
    private mutating func mutateOneNode(_ value: JSONValue) -> JSONValue {
        var paths = [[PathStep]]()
        Self.collectPaths(value, [], into: &paths)
        let path = paths[Int.random(in: 0..<paths.count, using: &generator)]
        let remove = Int.random(in: 0..<4, using: &generator) == 0
        let replacement = randomValue()
        return Self.replacing(value, at: path[...], with: remove ? nil : replacement)
    }

    /// Multiplies every real of the input's vectors and scores (not the
    /// schedule or configuration) by one power of ten from 1e-320 to 1e308:
    /// well-formed requests whose arithmetic underflows or overflows.
    private mutating func scalingReals(_ request: JSONValue) -> JSONValue {
        let factor = pow(10, Double(Int.random(in: -320...308, using: &generator)))
        func scaled(_ value: JSONValue) -> JSONValue {
            switch value {
            case let .number(x): .number(x * factor)
            case let .array(items): .array(items.map(scaled))
            default: value
            }
        }
        guard let input = request["input"]?.objectFields else { return request }
        let inputs = input.map { ($0.0, ["schedule", "configuration", "rho", "sigma"].contains($0.0) ? $0.1 : scaled($0.1)) }
        return withField(request, "input", .object(inputs))
    }

    /// Replaces one integer (T, t, d, M's index, a stream, a word) by a size
    /// beyond the limits, a negative, a fraction or an integer written as a real.
    private mutating func awkwardInteger(_ value: JSONValue) -> JSONValue {
        var paths = [[PathStep]]()
        Self.collectPaths(value, [], into: &paths)
        let integers = paths.filter { if case .integer = Self.node(value, at: $0[...]) { true } else { false } }
        guard let path = integers.randomElement(using: &generator) else { return mutateOneNode(value) }
        let awkward: [JSONValue] = [
            .integer(-3), .integer(-1), .integer(0), .number(1.5), .number(1e9), .number(1e11), .number(1e20), .number(0x1p53),
            .integer(ADARLimits.maxSteps + 1), .integer(ADARLimits.maxDimension + 1), .integer(Int.max), .integer(Int.min),
            .integer(Int(UInt32.max) + 1), .number(12.0),
        ]
        return Self.replacing(value, at: path[...], with: awkward.randomElement(using: &generator)!)
    }

    private static func node(_ value: JSONValue, at path: ArraySlice<PathStep>) -> JSONValue? {
        guard let step = path.first else { return value }
        switch (step, value) {
        case let (.key(key), .object): return value[key].flatMap { node($0, at: path.dropFirst()) }
        case let (.index(i), .array(items)): return node(items[i], at: path.dropFirst())
        default: return nil
        }
    }

    private enum PathStep { case key(String), index(Int) }

    private static func collectPaths(_ value: JSONValue, _ prefix: [PathStep], into paths: inout [[PathStep]]) {
        if !prefix.isEmpty { paths.append(prefix) }
        switch value {
        case let .object(fields): for (key, child) in fields { collectPaths(child, prefix + [.key(key)], into: &paths) }
        case let .array(items): for (i, child) in items.enumerated() { collectPaths(child, prefix + [.index(i)], into: &paths) }
        default: break
        }
    }

    /// `value` with the node at `path` replaced by `replacement`, or removed when it is nil.
    private static func replacing(_ value: JSONValue, at path: ArraySlice<PathStep>, with replacement: JSONValue?) -> JSONValue {
        guard let step = path.first else { return replacement ?? .null }
        let rest = path.dropFirst()
        switch (step, value) {
        case let (.key(key), .object(fields)):
            return .object(fields.compactMap { field in
                guard field.0 == key else { return field }
                if rest.isEmpty, replacement == nil { return nil }
                return (key, replacing(field.1, at: rest, with: replacement))
            })
        case let (.index(i), .array(items)):
            var items = items
            if rest.isEmpty, replacement == nil { items.remove(at: i) } else { items[i] = replacing(items[i], at: rest, with: replacement) }
            return .array(items)
        default: return value
        }
    }

    private func withField(_ request: JSONValue, _ key: String, _ value: JSONValue) -> JSONValue {
        var fields = request.objectFields ?? []
        if let i = fields.firstIndex(where: { $0.0 == key }) { fields[i].1 = value } else { fields.append((key, value)) }
        return .object(fields)
    }

    /// Wrong types, sizes beyond the limits, fractions, negatives, NaN-like strings, long arrays.
    private mutating func randomValue() -> JSONValue {
        let awkward: [JSONValue] = [
            .integer(0), .integer(-1), .integer(-3), .integer(1), .integer(2), .integer(ADARLimits.maxSteps + 1),
            .integer(ADARLimits.maxDimension + 1), .integer(1_000_000_000), .integer(Int.max), .integer(Int.min),
            .number(1.5), .number(-3.5), .number(-0.0), .number(1e9), .number(1e11),
            .number(1e20), .number(1e300), .number(-1e300), .number(.leastNonzeroMagnitude), .number(0x1p53), .null, .bool(true), .bool(false),
            .string(""), .string("NaN"), .string("Infinity"), .string("-Infinity"), .string("1e9"), .string("-1"),
            .string("18446744073709551616"), .string("transition"), .string("cosine"), .string("max"), .array([]),
            .object([]), .array([.array([])]), .array([.null]), .object([("kind", .string("custom"))]),
        ]
        switch Int.random(in: 0..<8, using: &generator) {
        case 0:   // a long array of reals, within reason
            return .reals((0..<Int.random(in: 50...1_000, using: &generator)).map { _ in generator.normal() })
        case 1:   // a matrix of random shape
            let columns = Int.random(in: 0...20, using: &generator)
            return .array((0..<Int.random(in: 0...20, using: &generator)).map { _ in .reals((0..<columns).map { _ in generator.normal() }) })
        case 2: return .number(generator.normal() * pow(10, Double(Int.random(in: -320...308, using: &generator))))
        default: return awkward[Int.random(in: 0..<awkward.count, using: &generator)]
        }
    }

    private mutating func flipBytes(_ bytes: [UInt8]) -> [UInt8] {
        var bytes = bytes
        for _ in 0..<Int.random(in: 1...4, using: &generator) where !bytes.isEmpty {
            let at = Int.random(in: 0..<bytes.count, using: &generator)
            switch Int.random(in: 0..<3, using: &generator) {
            case 0: bytes[at] = randomByte()
            case 1: bytes.insert(randomByte(), at: at)
            default: bytes.remove(at: at)
            }
        }
        return bytes
    }

    private mutating func randomBytes() -> [UInt8] {
        (0..<Int.random(in: 1...200, using: &generator)).map { _ in randomByte() }
    }

    /// Any byte but the newline that ends a request.
    private mutating func randomByte() -> UInt8 {
        let byte = UInt8.random(in: 0...255, using: &generator)
        return byte == UInt8(ascii: "\n") ? UInt8(ascii: "{") : byte
    }
}
