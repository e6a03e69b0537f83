import Foundation
import Testing
import ADARCore
import ADAR
import ADARProtocol
import ADARConformance

/// docs/CLI.md "Limits": every size that reaches an allocation has a maximum
/// in `ADARLimits`, refused before allocating, by the library's throwing
/// initialisers, by `adar port-server` and by the command line, never by a
/// trap or an allocation failure.
@Suite("Limits: sizes are refused before allocating")
struct LimitsTests {
    // MARK: Library

    @Test("NoiseSchedule refuses T above ADARLimits.maxSteps, before allocating, and accepts T at it")
    func scheduleSteps() throws {
        for steps in [ADARLimits.maxSteps + 1, 1_000_000_000, Int.max] {
            #expect(throws: ADARError.limitExceeded(field: "steps", limit: ADARLimits.maxSteps, actual: steps)) {
                try NoiseSchedule(.defaultCosine, steps: steps)
            }
        }
        #expect(try NoiseSchedule(.defaultCosine, steps: ADARLimits.maxSteps).alphaBar.count == ADARLimits.maxSteps + 1)
        let tooMany = [Double](repeating: 1e-4, count: ADARLimits.maxSteps + 1)
        #expect(throws: ADARError.limitExceeded(field: "steps", limit: ADARLimits.maxSteps, actual: tooMany.count)) {
            try NoiseSchedule(.custom(betas: tooMany), steps: tooMany.count)
        }
    }

    @Test("ADARBatch refuses d, M and rows·M·d above their limits, without overflowing, before reading the arrays")
    func batchSizes() {
        func batch(rows: Int, dimension: Int, poolSize: Int) throws(ADARError) -> ADARBatch {
            try ADARBatch(rows: rows, dimension: dimension, poolSize: poolSize, users: [], positives: [], pool: [],
                          noise: .counter(seed: 0, stream: 0, rowOffset: 0))
        }
        let d = ADARLimits.maxDimension, m = ADARLimits.maxPoolSize
        #expect(throws: ADARError.limitExceeded(field: "dimension", limit: d, actual: d + 1)) { try batch(rows: 1, dimension: d + 1, poolSize: 1) }
        #expect(throws: ADARError.limitExceeded(field: "poolSize", limit: m, actual: m + 1)) { try batch(rows: 1, dimension: 1, poolSize: m + 1) }
        #expect(throws: ADARError.limitExceeded(field: "rows·M·d", limit: ADARLimits.maxArrayCount, actual: 1 << 30)) {
            try batch(rows: 1 << 10, dimension: 1 << 10, poolSize: 1 << 10)
        }
        // B·M·d would overflow Int: refused, not trapped.
        #expect(throws: ADARError.limitExceeded(field: "rows·M·d", limit: ADARLimits.maxArrayCount, actual: .max)) {
            try batch(rows: Int.max / 2, dimension: d, poolSize: m)
        }
        // Within the limits, an empty array is a shape error as before.
        #expect(throws: ADARError.shapeMismatch(field: "user", expected: 2, actual: 0)) { try batch(rows: 1, dimension: 2, poolSize: 1) }
    }

    @Test("the optimised inputs refuse the same sizes: DenseRows32 rows·M·d, IndexedRows32 rows·d and rows·M")
    func optimisedInputSizes() {
        #expect(throws: ADARError.limitExceeded(field: "rows·M·d", limit: ADARLimits.maxArrayCount, actual: .max)) {
            try DenseRows32(rows: Int.max / 2, dimension: 2, poolSize: 2, users: [], positives: [], pool: [])
        }
        #expect(throws: ADARError.limitExceeded(field: "dimension", limit: ADARLimits.maxDimension, actual: ADARLimits.maxDimension + 1)) {
            try DenseRows32(rows: 0, dimension: ADARLimits.maxDimension + 1, poolSize: 1, users: [], positives: [], pool: [])
        }
        // x⁻ would take B·d = 2049·65,536 > 2²⁷ values.
        let users = [Int32](repeating: 0, count: 2_049)
        #expect(throws: ADARError.limitExceeded(field: "rows·d", limit: ADARLimits.maxArrayCount, actual: 2_049 * 65_536)) {
            try IndexedRows32(dimension: 65_536, poolSize: 1, userTable: [], itemTable: [], users: users, positives: users, pool: users)
        }
        #expect(throws: ADARError.limitExceeded(field: "poolSize", limit: ADARLimits.maxPoolSize, actual: ADARLimits.maxPoolSize + 1)) {
            try IndexedRows32(dimension: 1, poolSize: ADARLimits.maxPoolSize + 1, userTable: [], itemTable: [], users: [], positives: [], pool: [])
        }
    }

    @Test("limitExceeded names the field, the value and the limit; its protocol kind is limitExceeded")
    func limitMessage() {
        let error = ADARError.limitExceeded(field: "steps", limit: 100_000, actual: 1_000_000_000)
        #expect(error.description.contains("steps") && error.description.contains("1000000000") && error.description.contains("100000"))
        #expect(error.kind == "limitExceeded" && error.field == "steps")
        #expect(!ADARError.kinds.contains("limitExceeded"), "fixtures never expect adar's own limits")
        #expect(ADARError.limitExceeded(field: "rows·M·d", limit: 1, actual: .max).description.contains("more than"))
    }

    // MARK: Requests (in process)

    /// A request for `op` with `input`, as the runner writes it.
    static func request(_ op: String, _ input: String) -> String { #"{"id":"t#1","op":""# + op + #"","input":"# + input + "}" }
    static func schedule(steps: String) -> String {
        request("schedule", #"{"schedule":{"kind":"cosine","steps":"# + steps + #","s":0.008,"maxBeta":0.999},"timesteps":[0,1]}"#)
    }
    static func normals(dimension: String, stream: String = "0") -> String {
        request("normals", #"{"seed":"1","stream":"# + stream + #","row":"0","dimension":"# + dimension + "}")
    }

    /// Requests with a bad integer field and the error kind and field each must get.
    static let badIntegers: [(request: String, kind: String, field: String)] = [
        (schedule(steps: "1e9"), "limitExceeded", "steps"),
        (schedule(steps: "1000000000"), "limitExceeded", "steps"),
        (schedule(steps: "\(ADARLimits.maxSteps + 1)"), "limitExceeded", "steps"),
        (schedule(steps: "1.5"), "invalidInput", "steps"),
        (schedule(steps: "-3"), "invalidSchedule", "steps"),
        (schedule(steps: "1e20"), "invalidInput", "steps"),
        (schedule(steps: "99999999999999999999"), "invalidInput", "steps"),
        (schedule(steps: "\"12\""), "invalidInput", "steps"),
        (normals(dimension: "1e11"), "limitExceeded", "dimension"),
        (normals(dimension: "\(ADARLimits.maxDimension + 1)"), "limitExceeded", "dimension"),
        (normals(dimension: "-3"), "shapeMismatch", "dimension"),
        (normals(dimension: "1.5"), "invalidInput", "dimension"),
        (normals(dimension: "4", stream: "-3"), "invalidInput", "stream"),
        (normals(dimension: "4", stream: "4294967296"), "invalidInput", "stream"),
        (request("schedule", #"{"schedule":{"kind":"linear","steps":10,"start":0.1,"end":0.2},"timesteps":[1.5]}"#), "invalidInput", "timesteps"),
        (request("forward", #"{"schedule":{"kind":"ddpm-linear","steps":1000},"timestep":-3,"sigma":1,"x0":[1],"epsilon":[0]}"#),
         "invalidInput", "timestep"),
    ]

    static func expectRefusals(_ port: some ConformancePort, _ cases: [(request: String, kind: String, field: String)]) throws {
        for (request, kind, field) in cases {
            let answer = try JSONValue.parse(port.respond(to: request))
            #expect(answer["id"] == .string("t#1"), "\(request)")
            #expect(answer["error"]?["kind"] == .string(kind) && answer["error"]?["field"] == .string(field),
                    "\(port.name): \(request) → \(answer.rendered); expected \(kind) on \(field)")
        }
    }

    @Test("a bad integer field (1e9, 1e11, 1.5, -3, …) is refused by the request decoder, naming the field")
    func badIntegerFields() throws {
        try Self.expectRefusals(ReferencePort(), Self.badIntegers)
        try Self.expectRefusals(OptimisedPort(), Self.badIntegers)
    }

    @Test("arrays beyond d or M are refused; sizes at the limits are answered")
    func requestArrays() throws {
        let long = "[" + [String](repeating: "0", count: ADARLimits.maxDimension + 1).joined(separator: ",") + "]"
        let column = "[" + [String](repeating: "[0]", count: ADARLimits.maxPoolSize + 1).joined(separator: ",") + "]"
        let cases = [
            (Self.request("forward", #"{"schedule":{"kind":"ddpm-linear","steps":1000},"timestep":1,"sigma":1,"x0":"# + long + #","epsilon":"# + long + "}"),
             "limitExceeded", "x0"),
            (Self.request("synthesize", #"{"schedule":{"kind":"ddpm-linear","steps":1000},"configuration":{"rho":0.5,"policy":"max","sigma":1},"user":[1],"positive":[1],"pool":"# + column + #","epsilon":[0]}"#),
             "limitExceeded", "poolSize"),
        ]
        for port in [ReferencePort(), OptimisedPort()] as [any ConformancePort] {
            try Self.expectRefusals(port, cases)
            let atLimit = try JSONValue.parse(port.respond(to: Self.normals(dimension: "\(ADARLimits.maxDimension)")))
            #expect(atLimit["output"]?["epsilon"]?.arrayValue?.count == ADARLimits.maxDimension, "\(port.name)")
            let longest = try JSONValue.parse(port.respond(to: Self.schedule(steps: "\(ADARLimits.maxSteps)")))
            #expect(longest["output"]?["beta"]?.arrayValue?.count == 2, "\(port.name)")
        }
    }

    @Test("a line that is not JSON is answered with the id it starts with, or null")
    func leadingID() {
        #expect(RequestLine.leadingID(of: #"{"id": "transition.json#12", "op": "trans"#) == .string("transition.json#12"))
        #expect(RequestLine.leadingID(of: #" { "id" : 7 ,"op"#) == .integer(7))
        #expect(RequestLine.leadingID(of: #"{"id":"a\"b#1","#) == .string("a\"b#1"))
        for line in [#"{"id": 12"#, #"{"id": "unterminated"#, #"{"op":"x","id":"late#1"}"#, "garbage", #"{"id": {"a": 1}, "#, ""] {
            #expect(RequestLine.leadingID(of: line) == .null, "\(line)")
        }
        let answer = try? JSONValue.parse(ReferencePort().respond(to: #"{"id":"s#4","op":"schedule","input":{"sche"#))
        #expect(answer?["id"] == .string("s#4") && answer?["error"]?["field"] == .string("request"))
    }

    // MARK: Request lines

    /// Lines read from `bytes` by a `FileLineReader` with `limit`.
    static func lines(_ bytes: Data, limit: Int) throws -> [InputLine] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("adar-lines-\(UUID().uuidString)")
        try bytes.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        var reader = FileLineReader(fileDescriptor: handle.fileDescriptor, limit: limit)
        var lines = [InputLine]()
        while let line = reader.next() { lines.append(line) }
        return lines
    }

    @Test("the request reader returns a line longer than its limit as tooLong, keeps its start, and reads on")
    func requestLineReader() throws {
        let lines = try Self.lines(Data("abc\n0123456789ABCDEF\n\nend".utf8), limit: 10)
        #expect(lines == [.text("abc"), .tooLong(start: "0123456789A", byteCount: 16), .text(""), .text("end")])
        // CRLF line ends, as in results files, and a long line split over several reads still counts whole.
        #expect(try Self.lines(Data("a\r\nb\r\n".utf8), limit: 10) == [.text("a"), .text("b")])
        // A line across many 64 KiB reads arrives whole.
        let long = String(repeating: "x", count: 200_000)
        #expect(try Self.lines(Data((long + "\nnext\n").utf8), limit: ADARLimits.maxRequestBytes) == [.text(long), .text("next")])
        #expect(try Self.lines(Data(), limit: 10).isEmpty)
    }

    // MARK: port-server (the built executable)

    /// Runs `adar port-server --implementation <implementation>` on `input`.
    static func portServer(_ implementation: String, _ input: Data) throws -> (result: ProcessResult, answers: [JSONValue]) {
        let result = try ProcessResult.run(
            try ADARExecutable.url(), ["port-server", "--implementation", implementation], standardInput: input)
        #expect(!result.endedBySignal && result.status == 0, "\(implementation): \(result.standardError.suffix(1_000))")
        return (result, result.standardOutput.split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) })
    }

    @Test("port-server refuses steps 1e9 and dimension 1e11 with limitExceeded and answers the next request", arguments: ["optimised", "reference"])
    func portServerRefusesHugeSizes(implementation: String) throws {
        let lines = [Self.schedule(steps: "1e9"), Self.normals(dimension: "1e11"), Self.schedule(steps: "10")]
        let (_, answers) = try Self.portServer(implementation, Data(lines.map { $0 + "\n" }.joined().utf8))
        try #require(answers.count == 3)
        #expect(answers[0]["error"]?["kind"] == .string("limitExceeded") && answers[0]["error"]?["field"] == .string("steps"))
        #expect(answers[1]["error"]?["kind"] == .string("limitExceeded") && answers[1]["error"]?["field"] == .string("dimension"))
        #expect(answers[2]["output"] != nil)
    }

    @Test("port-server answers a request line over 16 MiB with limitExceeded on field request, with its id, and reads on")
    func portServerRefusesLongLines() throws {
        let start = #"{"id":"big#1","op":"forward","input":{"x0":["#
        var line = Data(start.utf8)
        line.append(Data(repeating: UInt8(ascii: "0"), count: ADARLimits.maxRequestBytes))
        line.append(Data("\n".utf8))
        line.append(Data((Self.schedule(steps: "10") + "\n").utf8))
        let (_, answers) = try Self.portServer("reference", line)
        try #require(answers.count == 2)
        #expect(answers[0]["id"] == .string("big#1"))
        #expect(answers[0]["error"]?["kind"] == .string("limitExceeded") && answers[0]["error"]?["field"] == .string("request"))
        #expect(answers[1]["output"] != nil)
    }
}

/// `adar schedule` and `adar transition` (docs/CLI.md): sizes within
/// `ADARLimits`, no option accepted and ignored, negative values reach S1's
/// checks, and every refusal of a command-line value exits 64 naming its option.
@Suite("Limits: schedule and transition options")
struct ScheduleOptionTests {
    /// Runs `adar arguments…`; it must end by exit(), not by a signal.
    static func adar(_ arguments: [String]) throws -> ProcessResult {
        let result = try ADARExecutable.run(arguments)
        #expect(!result.endedBySignal, "adar \(arguments.joined(separator: " ")) ended by a signal")
        return result
    }

    static func expectUsageError(_ arguments: [String], mentioning words: [String]) throws {
        let result = try adar(arguments)
        #expect(result.status == 64, "adar \(arguments.joined(separator: " ")) exited \(result.status): \(result.standardError)")
        for word in words {
            #expect(result.standardError.contains(word), "adar \(arguments.joined(separator: " ")): no \"\(word)\" in \(result.standardError)")
        }
    }

    @Test("-T above the limit is refused at once with exit 64, naming -T and the limit")
    func stepsLimit() throws {
        let limit = "\(ADARLimits.maxSteps)"
        try Self.expectUsageError(["schedule", "cosine", "-T", "1000000000"], mentioning: ["-T", "1000000000", limit])
        try Self.expectUsageError(["schedule", "linear", "-T", "\(ADARLimits.maxSteps + 1)"], mentioning: ["-T", limit])
        try Self.expectUsageError(["schedule", "cosine", "-T", "1e9"], mentioning: ["-T"])
        try Self.expectUsageError(["transition", "--s0", "1", "--sneg", "0", "--norm", "1", "-T", "1000000000"], mentioning: ["-T", limit])
        try Self.expectUsageError(["schedule", "cosine", "-T", "-5"], mentioning: ["-T", "T must be at least 1"])
    }

    @Test("custom: -T must equal the count of --betas")
    func customSteps() throws {
        try Self.expectUsageError(["schedule", "custom", "--betas", "0.1,0.2", "-T", "7"], mentioning: ["-T 7", "--betas", "2"])
        let agreeing = try Self.adar(["schedule", "custom", "--betas", "0.1,0.2", "-T", "2"])
        #expect(agreeing.status == 0 && agreeing.standardOutput.contains("T = 2"), "\(agreeing.standardError)")
        try Self.expectUsageError(["schedule", "custom"], mentioning: ["--betas"])
    }

    /// The families each parameter option belongs to (S1 table; the help text says the same).
    static let families: [(option: String, value: String, families: [String])] = [
        ("--start", "0.0001", ["linear", "scaled-linear"]),
        ("--end", "0.02", ["linear", "scaled-linear"]),
        ("--s", "0.01", ["cosine"]),
        ("--max-beta", "0.9", ["cosine", "linear-variance"]),
        ("--scale", "0.2", ["linear-variance"]),
        ("--min", "0.0001", ["linear-variance"]),
        ("--max", "0.03", ["linear-variance"]),
        ("--betas", "0.1,0.2", ["custom"]),
    ]
    static let allFamilies = ["linear", "ddpm-linear", "scaled-linear", "cosine", "linear-variance", "custom"]

    @Test("a parameter option is taken by its families, refused by the others, and its help names its families",
          arguments: families.map(\.option))
    func optionBelongsToItsFamilies(option: String) throws {
        let (_, value, families) = Self.families.first { $0.option == option }!
        for family in Self.allFamilies {
            var arguments = ["schedule", family, option, value, "--json"]
            arguments += family == "custom" ? (option == "--betas" ? [] : ["--betas", "0.1,0.2"]) : ["-T", "10"]
            if families.contains(family) {
                let result = try Self.adar(arguments)
                #expect(result.status == 0, "\(arguments.joined(separator: " ")): \(result.standardError)")
            } else {
                try Self.expectUsageError(arguments, mentioning: [option, "does not apply to \(family)"])
            }
        }
        let help = try Self.adar(["schedule", "--help"]).standardOutput
        let line = help.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(option + " <") }
        #expect(line?.contains(families.joined(separator: ", ") + ":") == true, "help for \(option): \(line ?? "none")")
    }

    @Test("negative values parse and reach S1's checks: refused with S1's message and exit 64")
    func negativeValues() throws {
        try Self.expectUsageError(["schedule", "scaled-linear", "--start", "-0.1"], mentioning: ["--start", "start = -0.1", "S1"])
        try Self.expectUsageError(["schedule", "linear", "--start", "-0.1", "-T", "5"], mentioning: ["β_1 = -0.1", "S1"])
        try Self.expectUsageError(["schedule", "cosine", "--s", "-1"], mentioning: ["--s", "s = -1.0", "S1"])
        try Self.expectUsageError(["schedule", "linear-variance", "--scale", "-0.5"], mentioning: ["--scale", "S1"])
        try Self.expectUsageError(["schedule", "custom", "--betas", "-0.1,0.2"], mentioning: ["--betas", "β_1 = -0.1"])
        try Self.expectUsageError(["schedule", "linear", "--start", "0.02", "--end", "0.01"], mentioning: ["--start", "start = 0.02 > end"])
        let negativeScore = try Self.adar(["transition", "--s0", "1", "--sneg", "-0.3", "--norm", "1", "--json"])
        #expect(negativeScore.status == 0, "\(negativeScore.standardError)")
    }

    @Test("transition: ρ, σ, the scores and the norm out of range are usage errors naming the option")
    func transitionRanges() throws {
        let row = ["transition", "--s0", "1", "--sneg", "0.3", "--norm", "1"]
        for rho in ["0", "1", "-0.5", "nan", "2"] { try Self.expectUsageError(row + ["--rho", rho], mentioning: ["--rho"]) }
        for sigma in ["0", "-1", "inf"] { try Self.expectUsageError(row + ["--sigma", sigma], mentioning: ["--sigma"]) }
        try Self.expectUsageError(["transition", "--s0", "nan", "--sneg", "0", "--norm", "1"], mentioning: ["--s0"])
        try Self.expectUsageError(["transition", "--s0", "1", "--sneg", "0", "--norm", "-1"], mentioning: ["--norm"])
        try Self.expectUsageError(["transition", "--s0", "1", "--sneg", "0", "--norm", "1e300", "--sigma", "1e300"], mentioning: ["overflows"])
        try Self.expectUsageError(row + ["--schedule", "linear", "--s", "0.1"], mentioning: ["--s", "does not apply to linear"])
        try Self.expectUsageError(row + ["--schedule", "linear", "--start", "0.5", "--end", "1.5", "-T", "3"], mentioning: ["S1"])
    }
}
