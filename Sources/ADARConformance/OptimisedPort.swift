import Foundation
import ADARCore
import ADAR
import ADARProtocol

/// The optimised binary32 `ADAR` module answering the protocol.
///
/// `synthesize` and `normals` run the module itself (`ADARSynthesizer`,
/// `GaussianNoise32`). The operations it has no entry point for — a schedule
/// table, one forward sample, a transition from bare scores, the loss of a
/// given outcome — are answered from ADARCore's binary64 tables rounded to
/// binary32 and computed in binary32, as the module does inside its row
/// loop; `philox` is integer arithmetic, the same in every precision.
public struct OptimisedPort: ConformancePort {
    public init() {}

    public var name: String { "swift-adar optimised (binary32)" }
    public var precision: Precision { .binary32 }
    public var operations: [FixtureOperation] { FixtureOperation.allCases }

    public func answer(operation: FixtureOperation, input value: JSONValue) throws(EvaluationError) -> JSONValue {
        let input = OperationInput(value)
        switch operation {
        case .schedule:
            // The module rounds the binary64 tables once (ADARSynthesizer.init).
            guard case let .object(fields) = try ReferenceEvaluator.schedule(input) else { preconditionFailure() }
            return .object(fields.map { ($0.0, .reals(($0.1.arrayValue ?? []).map { Double(Float($0.doubleValue!)) })) })
        case .forward: return try Self.forward(input)
        case .transition: return try Self.transition(input)
        case .synthesize: return try Self.synthesize(input)
        case .philox: return try ReferenceEvaluator.philox(input)
        case .normals:
            let (noise, row, d) = try ReferenceEvaluator.noiseCoordinates(input)
            let epsilon = [Float](unsafeUninitializedCapacity: d) { buffer, count in
                GaussianNoise32(seed: noise.seed, stream: noise.stream).fill(row: row, dimension: d, into: buffer.baseAddress!)
                count = d
            }
            return .object([("epsilon", .reals(epsilon.map(Double.init)))])
        case .loss: return try Self.loss(input)
        }
    }

    /// S2 in binary32: `√ᾱ_t·x_0 + (√(1 − ᾱ_t)·σ)·ε`, the module's combine step.
    static func forward(_ input: OperationInput) throws(EvaluationError) -> JSONValue {
        let (table, t, sigma, x0, epsilon) = try ReferenceEvaluator.forwardInputs(input)
        let signal = Float(table.sqrtAlphaBar[t]), noise = Float(table.sqrtOneMinusAlphaBar[t]) * Float(sigma)
        let xt = zip(x0, epsilon).map { Double(signal * Float($0) + noise * Float($1)) }
        return .object([("xt", .reals(xt))])
    }

    /// S4, S5 in binary32 from scores: the module's per-row steps.
    static func transition(_ input: OperationInput) throws(EvaluationError) -> JSONValue {
        let (table, config, s0d, sNegd, norm) = try ReferenceEvaluator.transitionInputs(input)
        let s0 = Float(s0d), sNeg = Float(sNegd), n = Float(config.sigma) * Float(norm)
        let fallback: RowStatus? = n == 0 ? .degenerateUser : s0 <= sNeg ? .alreadyNegative : s0 <= 0 ? .nonPositiveScore : nil
        if let fallback { return ReferenceEvaluator.transitionOutput(status: fallback, timestep: 0, aStar: .nan, retention: .nan) }
        let z = Float(StandardNormal.quantile(config.rho))
        let aStar = transitionAmplitude(s0: s0, sNeg: sNeg, n: n, z: z)
        let alphaBar = table.alphaBar.map(Float.init)
        let crossing = aStar.flatMap { a in (1...table.steps).first { alphaBar[$0] <= a * a } }
        let t = crossing ?? table.steps
        let margin = (Float(table.sqrtAlphaBar[t]) * s0 - sNeg) / (Float(table.sqrtOneMinusAlphaBar[t]) * n)
        let retention = 0.5 * erfcf(-margin * 0.707_106_77)
        return ReferenceEvaluator.transitionOutput(
            status: crossing == nil ? .saturated : .transition, timestep: t,
            aStar: Double(aStar ?? .nan), retention: Double(retention))
    }

    /// S4.d/S4.e in binary32, the same branch choice as the reference.
    static func transitionAmplitude(s0: Float, sNeg: Float, n: Float, z: Float) -> Float? {
        if z == 0 { return sNeg >= 0 ? sNeg / s0 : nil }
        let zn = z * n
        let radicand = (s0 - sNeg) * (s0 + sNeg) + zn * zn
        guard radicand >= 0 else { return nil }
        let b = s0 * sNeg, c = zn * radicand.squareRoot()
        let aStar = (b >= 0) == (c >= 0) ? (b + c) / (s0 * s0 + zn * zn) : (sNeg - zn) * (sNeg + zn) / (b - c)
        return aStar >= 0 ? aStar : nil
    }

    /// S3–S6 by `ADARSynthesizer` on a one-row dense batch with explicit ε.
    static func synthesize(_ input: OperationInput) throws(EvaluationError) -> JSONValue {
        let (table, config, batch) = try ReferenceEvaluator.synthesisInputs(input)
        guard case let .explicit(epsilon) = batch.noise else { preconditionFailure() }
        let synthesizer = ADARSynthesizer(schedule: table, configuration: config)
        let buffers = SynthesisBuffers()
        try refusing { () throws(ADARError) in
            let rows = try DenseRows32(
                rows: 1, dimension: batch.dimension, poolSize: batch.poolSize,
                users: batch.users.map(Float.init), positives: batch.positives.map(Float.init), pool: batch.pool.map(Float.init))
            try synthesizer.synthesize(rows, noise: .explicit(epsilon.map(Float.init)), into: buffers, threads: 1)
        }
        return ReferenceEvaluator.synthesisOutput(RowOutcome(
            status: buffers.statuses[0], timestep: Int(buffers.timesteps[0]),
            aStar: Double(buffers.aStars[0]), retention: Double(buffers.retentions[0]),
            positiveScore: Double(buffers.positiveScores[0]),
            referenceNegativeScore: Double(buffers.referenceNegativeScores[0]),
            syntheticScore: Double(buffers.syntheticScores[0]), hardestCandidate: Int(buffers.hardestCandidates[0]),
            syntheticNegative: buffers.syntheticNegative(0).map(Double.init)))
    }

    /// S7 in binary32 for a given outcome, as the module's loss pass computes it.
    static func loss(_ input: OperationInput) throws(EvaluationError) -> JSONValue {
        let (table, config, batch, outcome) = try ReferenceEvaluator.lossInputs(input)
        let d = batch.dimension
        let u = batch.users.map(Float.init), x0 = batch.positives.map(Float.init)
        let pool = batch.pool.map(Float.init), xNeg = outcome.syntheticNegative.map(Float.init)
        let j = Array(pool[0..<d])
        func dot(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
        func softplus(_ x: Float) -> Float { max(x, 0) + log1pf(expf(-abs(x))) }
        func logistic(_ x: Float) -> Float { x >= 0 ? 1 / (1 + expf(-x)) : expf(x) / (1 + expf(x)) }

        let s0 = dot(u, x0), realMargin = s0 - dot(u, j)
        var loss = softplus(-realMargin)
        let realWeight = logistic(-realMargin)
        let augment = (!outcome.status.isFallback || config.fallback == .hardest) && config.augmentationWeight > 0
        let w = Float(config.augmentationWeight)
        var synthWeight: Float = 0
        if augment {
            let syntheticMargin = s0 - dot(u, xNeg)
            loss += w * softplus(-syntheticMargin)
            synthWeight = w * logistic(-syntheticMargin)
        }
        let through = augment && config.gradientFlow == .through
        let positiveFlow: Float = through && !outcome.status.isFallback ? Float(table.sqrtAlphaBar[outcome.timestep]) : 0
        let fallbackFlow: Float = through && outcome.status.isFallback ? 1 : 0
        let lambda = Float(config.l2)
        var gu = [Float](repeating: 0, count: d), gi = gu
        var gPool = [Float](repeating: 0, count: pool.count)
        var squares: Float = 0
        for k in 0..<d {
            gu[k] = -realWeight * (x0[k] - j[k]) - synthWeight * (x0[k] - xNeg[k]) + lambda * u[k]
            gi[k] = (-realWeight - synthWeight * (1 - positiveFlow)) * u[k] + lambda * x0[k]
            gPool[k] += realWeight * u[k] + lambda * j[k]
            gPool[outcome.hardestCandidate * d + k] += synthWeight * fallbackFlow * u[k]
            squares += u[k] * u[k] + x0[k] * x0[k] + j[k] * j[k]
        }
        loss += lambda / 2 * squares
        return ReferenceEvaluator.lossOutput(
            loss: Double(loss), user: gu.map(Double.init), positive: gi.map(Double.init),
            pool: gPool.map(Double.init), dimension: d)
    }
}
