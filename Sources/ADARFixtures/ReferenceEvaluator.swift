import ADARCore
import ADARReference

/// The operations of docs/PORTING.md §2, one fixture file each (invalid inputs aside).
public enum FixtureOperation: String, CaseIterable, Sendable {
    case schedule, forward, transition, synthesize, philox, normals, loss

    /// Input fields every test of this operation carries (PORTING.md §2).
    public var inputFields: [String] {
        switch self {
        case .schedule: ["schedule", "timesteps"]
        case .forward: ["schedule", "timestep", "sigma", "x0", "epsilon"]
        case .transition: ["schedule", "s0", "sNeg", "userNorm", "sigma", "rho"]
        case .synthesize: ["schedule", "configuration", "user", "positive", "pool", "epsilon"]
        case .philox: ["counter", "key"]
        case .normals: ["seed", "stream", "row", "dimension"]
        case .loss:
            ["schedule", "configuration", "user", "positive", "pool", "status", "timestep", "hardestCandidate", "syntheticNegative"]
        }
    }

    /// Output fields of a valid answer (PORTING.md §2).
    public var outputFields: [String] {
        switch self {
        case .schedule: ["beta", "alphaBar", "sqrtAlphaBar", "sqrtOneMinusAlphaBar"]
        case .forward: ["xt"]
        case .transition: ["status", "timestep", "aStar", "retention"]
        case .synthesize:
            ["status", "timestep", "aStar", "retention", "positiveScore", "referenceNegativeScore", "syntheticScore",
             "hardestCandidate", "syntheticNegative"]
        case .philox: ["words"]
        case .normals: ["epsilon"]
        case .loss: ["loss", "userGradient", "positiveGradient", "poolGradient"]
        }
    }
}

/// Why the reference did not answer: the input was refused with an
/// `ADARError` (an `invalid` case), or the request itself is malformed.
public enum EvaluationError: Error, Equatable, CustomStringConvertible {
    case refused(ADARError)
    case malformed(field: String, reason: String)

    public var description: String {
        switch self {
        case let .refused(error): "refused: \(error)"
        case let .malformed(field, reason): "malformed input field \(field): \(reason)"
        }
    }
}

extension ADARError {
    /// The case name, as the `kind` of an error answer (PORTING.md §3).
    public var kind: String {
        switch self {
        case .nonFinite: "nonFinite"
        case .overflow: "overflow"
        case .shapeMismatch: "shapeMismatch"
        case .invalidSchedule: "invalidSchedule"
        case .invalidConfiguration: "invalidConfiguration"
        case .indexOutOfRange: "indexOutOfRange"
        case .emptyPool: "emptyPool"
        }
    }

    /// The offending field or schedule parameter.
    public var field: String {
        switch self {
        case let .nonFinite(_, field, _), let .overflow(_, field), let .shapeMismatch(field, _, _),
             let .invalidConfiguration(field, _), let .indexOutOfRange(_, field, _, _):
            field
        case let .invalidSchedule(parameter, _): parameter
        case .emptyPool: "pool"
        }
    }

    public static let kinds = ["nonFinite", "overflow", "shapeMismatch", "invalidSchedule", "invalidConfiguration",
                               "indexOutOfRange", "emptyPool"]
}

/// Answers one request of the port protocol with the binary64 reference
/// (`ReferenceADAR`): the generator's source of every expected value.
public enum ReferenceEvaluator {
    public static func evaluate(_ operation: FixtureOperation, input: JSONValue) throws(EvaluationError) -> JSONValue {
        do {
            switch operation {
            case .schedule: return try schedule(input)
            case .forward: return try forward(input)
            case .transition: return try transition(input)
            case .synthesize: return try synthesize(input)
            case .philox: return try philox(input)
            case .normals: return try normals(input)
            case .loss: return try loss(input)
            }
        } catch let error as EvaluationError {
            throw error
        } catch let error as ADARError {
            throw .refused(error)
        } catch {
            throw .malformed(field: "input", reason: "\(error)")
        }
    }

    // MARK: - Decoding

    static func field(_ input: JSONValue, _ name: String) throws(EvaluationError) -> JSONValue {
        guard let value = input[name] else { throw .malformed(field: name, reason: "missing") }
        return value
    }

    static func real(_ input: JSONValue, _ name: String) throws(EvaluationError) -> Double {
        guard let x = try field(input, name).doubleValue else { throw .malformed(field: name, reason: "not a number") }
        return x
    }

    static func integer(_ input: JSONValue, _ name: String) throws(EvaluationError) -> Int {
        guard let i = try field(input, name).intValue else { throw .malformed(field: name, reason: "not an integer") }
        return i
    }

    static func reals(_ input: JSONValue, _ name: String) throws(EvaluationError) -> [Double] {
        guard let xs = try field(input, name).doubleArray else { throw .malformed(field: name, reason: "not an array of numbers") }
        return xs
    }

    static func matrix(_ input: JSONValue, _ name: String) throws(EvaluationError) -> [[Double]] {
        guard let rows = try field(input, name).arrayValue else { throw .malformed(field: name, reason: "not an array") }
        var out = [[Double]]()
        for row in rows {
            guard let xs = row.doubleArray else { throw .malformed(field: name, reason: "not an array of arrays of numbers") }
            out.append(xs)
        }
        return out
    }

    static func text(_ input: JSONValue, _ name: String) throws(EvaluationError) -> String {
        guard let s = try field(input, name).stringValue else { throw .malformed(field: name, reason: "not a string") }
        return s
    }

    /// `{"kind": …, "steps": T, parameters…}` (PORTING.md §2) → the validated schedule.
    public static func decodeSchedule(_ json: JSONValue) throws(EvaluationError) -> NoiseSchedule {
        let kind: ScheduleKind
        switch try text(json, "kind") {
        case "linear": kind = .linear(start: try real(json, "start"), end: try real(json, "end"))
        case "ddpm-linear": kind = .ddpmLinear
        case "scaled-linear": kind = .scaledLinear(start: try real(json, "start"), end: try real(json, "end"))
        case "cosine": kind = .cosine(s: try real(json, "s"), maxBeta: try real(json, "maxBeta"))
        case "linear-variance":
            kind = .linearVariance(
                scale: try real(json, "scale"), min: try real(json, "min"), max: try real(json, "max"),
                maxBeta: try real(json, "maxBeta"))
        case "custom": kind = .custom(betas: try reals(json, "betas"))
        case let other: throw .malformed(field: "schedule.kind", reason: "unknown kind \(other)")
        }
        let steps = try integer(json, "steps")
        do { return try NoiseSchedule(kind, steps: steps) } catch { throw .refused(error) }
    }

    /// The schedule object of a kind, parameters in the PORTING.md §2 order.
    public static func encodeSchedule(_ kind: ScheduleKind, steps: Int) -> JSONValue {
        var fields: [(String, JSONValue)] = [("kind", .string(kind.name)), ("steps", .integer(steps))]
        switch kind {
        case let .linear(start, end), let .scaledLinear(start, end):
            fields += [("start", .real(start)), ("end", .real(end))]
        case .ddpmLinear: break
        case let .cosine(s, maxBeta): fields += [("s", .real(s)), ("maxBeta", .real(maxBeta))]
        case let .linearVariance(scale, lo, hi, maxBeta):
            fields += [("scale", .real(scale)), ("min", .real(lo)), ("max", .real(hi)), ("maxBeta", .real(maxBeta))]
        case let .custom(betas): fields.append(("betas", .reals(betas)))
        }
        return .object(fields)
    }

    static func finite(_ values: [Double], field: String) throws(EvaluationError) {
        if let k = values.firstIndex(where: { !$0.isFinite }) { throw .refused(.nonFinite(row: 0, field: field, component: k)) }
    }

    // MARK: - Operations

    static func schedule(_ input: JSONValue) throws -> JSONValue {
        let table = try decodeSchedule(try field(input, "schedule"))
        guard let steps = try field(input, "timesteps").arrayValue?.compactMap(\.intValue),
              steps.allSatisfy({ (0...table.steps).contains($0) })
        else { throw EvaluationError.malformed(field: "timesteps", reason: "must be integers in 0…T") }
        return .object([
            ("beta", .reals(steps.map { table.beta[$0] })),
            ("alphaBar", .reals(steps.map { table.alphaBar[$0] })),
            ("sqrtAlphaBar", .reals(steps.map { table.sqrtAlphaBar[$0] })),
            ("sqrtOneMinusAlphaBar", .reals(steps.map { table.sqrtOneMinusAlphaBar[$0] })),
        ])
    }

    static func forward(_ input: JSONValue) throws -> JSONValue {
        let table = try decodeSchedule(try field(input, "schedule"))
        let t = try integer(input, "timestep")
        guard (0...table.steps).contains(t) else { throw EvaluationError.malformed(field: "timestep", reason: "must lie in 0…T") }
        let config = try ADARConfiguration(sigma: try real(input, "sigma"))
        let x0 = try reals(input, "x0"), epsilon = try reals(input, "epsilon")
        try finite(x0, field: "x0")
        guard epsilon.count == x0.count else { throw ADARError.shapeMismatch(field: "epsilon", expected: x0.count, actual: epsilon.count) }
        try finite(epsilon, field: "epsilon")
        let xt = ReferenceADAR.forwardSample(x0: x0[...], epsilon: epsilon, timestep: t, schedule: table, sigma: config.sigma)
        return .object([("xt", .reals(xt))])
    }

    static func transition(_ input: JSONValue) throws -> JSONValue {
        let table = try decodeSchedule(try field(input, "schedule"))
        let config = try ADARConfiguration(rho: try real(input, "rho"), sigma: try real(input, "sigma"))
        let s0 = try real(input, "s0"), sNeg = try real(input, "sNeg"), norm = try real(input, "userNorm")
        for (name, value) in [("s0", s0), ("sNeg", sNeg), ("userNorm", norm)] where !value.isFinite {
            throw ADARError.nonFinite(row: 0, field: name, component: 0)
        }
        let n = config.sigma * norm
        guard n.isFinite else { throw ADARError.overflow(row: 0, field: "noiseScale") }
        let point = ReferenceADAR.transitionPoint(
            positiveScore: s0, referenceNegativeScore: sNeg, noiseScale: n, rho: config.rho, schedule: table)
        return .object([
            ("status", .string(point.status.rawValue)), ("timestep", .integer(point.timestep)),
            ("aStar", .real(point.aStar)), ("retention", .real(point.retention)),
        ])
    }

    /// The validated single-row batch of a `synthesize` or `loss` request.
    static func batch(_ input: JSONValue) throws -> ADARBatch {
        let user = try reals(input, "user"), positive = try reals(input, "positive")
        let pool = try matrix(input, "pool"), epsilon = input["epsilon"].flatMap(\.doubleArray)
        if let ragged = pool.firstIndex(where: { $0.count != user.count }) {
            throw ADARError.shapeMismatch(field: "pool[\(ragged)]", expected: user.count, actual: pool[ragged].count)
        }
        return try ADARBatch(
            rows: 1, dimension: user.count, poolSize: pool.count, users: user, positives: positive,
            pool: pool.flatMap { $0 }, noise: .explicit(epsilon ?? [Double](repeating: 0, count: user.count)))
    }

    static func synthesize(_ input: JSONValue) throws -> JSONValue {
        let table = try decodeSchedule(try field(input, "schedule"))
        let configuration = try field(input, "configuration")
        guard let policy = ReferencePolicy(rawValue: try text(configuration, "policy")) else {
            throw EvaluationError.malformed(field: "configuration.policy", reason: "unknown policy")
        }
        let config = try ADARConfiguration(
            rho: try real(configuration, "rho"), policy: policy, sigma: try real(configuration, "sigma"))
        _ = try reals(input, "epsilon")
        let row = try ReferenceADAR.synthesize(try batch(input), schedule: table, configuration: config)[0]
        return encodeOutcome(row)
    }

    public static func encodeOutcome(_ row: RowOutcome) -> JSONValue {
        .object([
            ("status", .string(row.status.rawValue)), ("timestep", .integer(row.timestep)),
            ("aStar", .real(row.aStar)), ("retention", .real(row.retention)),
            ("positiveScore", .real(row.positiveScore)), ("referenceNegativeScore", .real(row.referenceNegativeScore)),
            ("syntheticScore", .real(row.syntheticScore)), ("hardestCandidate", .integer(row.hardestCandidate)),
            ("syntheticNegative", .reals(row.syntheticNegative)),
        ])
    }

    static func philox(_ input: JSONValue) throws -> JSONValue {
        let counter = try field(input, "counter").arrayValue?.compactMap(\.intValue).compactMap(UInt32.init(exactly:))
        let key = try field(input, "key").arrayValue?.compactMap(\.intValue).compactMap(UInt32.init(exactly:))
        guard let counter, counter.count == 4 else { throw EvaluationError.malformed(field: "counter", reason: "four 32-bit words") }
        guard let key, key.count == 2 else { throw EvaluationError.malformed(field: "key", reason: "two 32-bit words") }
        let w = Philox4x32.block(counter: SIMD4(counter[0], counter[1], counter[2], counter[3]), key: SIMD2(key[0], key[1]))
        return .object([("words", .integers([w.x, w.y, w.z, w.w].map { Int($0) }))])
    }

    static func normals(_ input: JSONValue) throws -> JSONValue {
        guard let seed = UInt64(try text(input, "seed")) else { throw EvaluationError.malformed(field: "seed", reason: "decimal UInt64") }
        guard let row = UInt64(try text(input, "row")) else { throw EvaluationError.malformed(field: "row", reason: "decimal UInt64") }
        guard let stream = UInt32(exactly: try integer(input, "stream")) else {
            throw EvaluationError.malformed(field: "stream", reason: "32-bit unsigned")
        }
        let d = try integer(input, "dimension")
        guard d >= 1 else { throw EvaluationError.malformed(field: "dimension", reason: "must be ≥ 1") }
        return .object([("epsilon", .reals(GaussianNoise(seed: seed, stream: stream).row(row, dimension: d)))])
    }

    static func loss(_ input: JSONValue) throws -> JSONValue {
        let table = try decodeSchedule(try field(input, "schedule"))
        let configuration = try field(input, "configuration")
        guard let fallback = FallbackMode(rawValue: try text(configuration, "fallback")) else {
            throw EvaluationError.malformed(field: "configuration.fallback", reason: "unknown fallback")
        }
        guard let flow = GradientFlow(rawValue: try text(configuration, "gradientFlow")) else {
            throw EvaluationError.malformed(field: "configuration.gradientFlow", reason: "unknown gradient flow")
        }
        let config = try ADARConfiguration(
            fallback: fallback, augmentationWeight: try real(configuration, "augmentationWeight"),
            gradientFlow: flow, l2: try real(configuration, "l2"))
        let batch = try batch(input)
        guard let status = RowStatus(rawValue: try text(input, "status")) else {
            throw EvaluationError.malformed(field: "status", reason: "unknown status")
        }
        let t = try integer(input, "timestep"), hardest = try integer(input, "hardestCandidate")
        guard (0...table.steps).contains(t), (0..<batch.poolSize).contains(hardest) else {
            throw EvaluationError.malformed(field: "timestep", reason: "timestep in 0…T and hardestCandidate in 0..<M")
        }
        let xNeg = try reals(input, "syntheticNegative")
        guard xNeg.count == batch.dimension else {
            throw ADARError.shapeMismatch(field: "syntheticNegative", expected: batch.dimension, actual: xNeg.count)
        }
        try finite(xNeg, field: "syntheticNegative")
        let outcome = RowOutcome(
            status: status, timestep: t, aStar: .nan, retention: .nan, positiveScore: .nan, referenceNegativeScore: .nan,
            syntheticScore: .nan, hardestCandidate: hardest, syntheticNegative: xNeg)
        let row = ReferenceADAR.loss(batch, row: 0, outcome: outcome, schedule: table, configuration: config)
        let d = batch.dimension
        return .object([
            ("loss", .real(row.loss)), ("userGradient", .reals(row.userGradient)),
            ("positiveGradient", .reals(row.positiveGradient)),
            ("poolGradient", .array((0..<batch.poolSize).map { .reals(Array(row.poolGradient[$0 * d ..< ($0 + 1) * d])) })),
        ])
    }
}
