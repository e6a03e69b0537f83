import Foundation
import ADARCore
import ADAR
import ADARReference
import ADARProtocol

/// The optimised binary32 `ADAR` module answering the protocol.
///
/// Every real-valued answer is computed by the module's own per-row code:
/// `synthesize` by `ADARSynthesizer.synthesize` on a one-row batch, the other
/// operations by its white-box entry points (`scheduleTables`,
/// `forwardSample`, `transition`, `lossRow`: the functions its batched
/// passes call per row), `normals` by `GaussianNoise32`. Inputs are decoded
/// and validated by ADARProtocol as for the reference, then rounded to
/// binary32; `philox` is integer arithmetic, the same in every precision.
public struct OptimisedPort: ConformancePort {
    public init() {}

    public var name: String { "swift-adar optimised (binary32)" }
    public var precision: Precision { .binary32 }
    public var operations: [FixtureOperation] { FixtureOperation.allCases }

    public func answer(operation: FixtureOperation, input value: JSONValue) throws(EvaluationError) -> JSONValue {
        let input = OperationInput(value)
        switch operation {
        case .schedule: return try Self.schedule(input)
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
        case .pe: return try Self.positionalEncoding(input)
        case .tauInit: return try Self.tauInit(input)
        case .tauForward: return try Self.tauForward(input)
        case .denoise: return try Self.denoise(input)
        case .synthesizeDenoised: return try Self.synthesizeDenoised(input)
        case .tauStep: return try Self.tauStep(input)
        }
    }

    /// S1: the binary32 tables the module prepares.
    static func schedule(_ input: OperationInput) throws(EvaluationError) -> JSONValue {
        let (table, steps) = try ReferenceEvaluator.scheduleInputs(input)
        // The tables do not depend on the configuration: any valid one will do.
        let config = try refusing { () throws(ADARError) in try ADARConfiguration() }
        let tables = ADARSynthesizer(schedule: table, configuration: config).scheduleTables
        func at(_ values: [Float]) -> [Double] { steps.map { Double(values[$0]) } }
        return ReferenceEvaluator.scheduleOutput(
            beta: at(tables.beta), alphaBar: at(tables.alphaBar),
            sqrtAlphaBar: at(tables.sqrtAlphaBar), sqrtOneMinusAlphaBar: at(tables.sqrtOneMinusAlphaBar))
    }

    /// S2 by the module's `forwardSample`.
    static func forward(_ input: OperationInput) throws(EvaluationError) -> JSONValue {
        let (table, t, sigma, x0, epsilon) = try ReferenceEvaluator.forwardInputs(input)
        let config = try refusing { () throws(ADARError) in try ADARConfiguration(sigma: sigma) }
        let xt = ADARSynthesizer(schedule: table, configuration: config).forwardSample(x0: x0.map(Float.init), epsilon: epsilon.map(Float.init), timestep: t)
        return .object([("xt", .reals(xt.map(Double.init)))])
    }

    /// S4, S5 from scores by the module's `transition`.
    static func transition(_ input: OperationInput) throws(EvaluationError) -> JSONValue {
        let (table, config, s0, sNeg, norm) = try ReferenceEvaluator.transitionInputs(input)
        let module = ADARSynthesizer(schedule: table, configuration: config)
        // `synthesize` refuses a row whose binary32 noise scale overflows.
        guard module.noiseScale(userNorm: Float(norm)).isFinite else { throw .refused(.overflow(row: 0, field: "noiseScale")) }
        let point = module.transition(s0: Float(s0), sNeg: Float(sNeg), userNorm: Float(norm))
        return ReferenceEvaluator.transitionOutput(
            status: point.status, timestep: point.timestep, aStar: Double(point.aStar), retention: Double(point.retention))
    }

    /// S3–S6 by `ADARSynthesizer` on a one-row dense batch with explicit ε.
    static func synthesize(_ input: OperationInput) throws(EvaluationError) -> JSONValue {
        let (table, config, batch) = try ReferenceEvaluator.synthesisInputs(input)
        return ReferenceEvaluator.synthesisOutput(try synthesizeRow(table, config, batch, generator: .forward).outcome)
    }

    /// S3–S6 with S9's `denoised` generator, τ a `TauNetwork32` holding the request's weights.
    static func synthesizeDenoised(_ input: OperationInput) throws(EvaluationError) -> JSONValue {
        let (table, config, batch, parameters, rMax) = try ReferenceEvaluator.denoisedSynthesisInputs(input)
        let generator = SynthesisGenerator32.denoised(try network(parameters, steps: table.steps), rMax: rMax)
        let (outcome, guarded) = try synthesizeRow(table, config, batch, generator: generator)
        return ReferenceEvaluator.denoisedSynthesisOutput(
            outcome, generator: ReferenceEvaluator.negativeGenerator(status: outcome.status, guarded: guarded))
    }

    /// One row by `ADARSynthesizer.synthesize`: its outcome and whether the `r_max` guard sent it to `forward`.
    static func synthesizeRow(
        _ table: NoiseSchedule, _ config: ADARConfiguration, _ batch: ADARBatch, generator: SynthesisGenerator32
    ) throws(EvaluationError) -> (outcome: RowOutcome, guarded: Bool) {
        guard case let .explicit(epsilon) = batch.noise else { preconditionFailure() }
        let buffers = SynthesisBuffers()
        try refusing { () throws(ADARError) in
            let rows = try DenseRows32(
                rows: 1, dimension: batch.dimension, poolSize: batch.poolSize,
                users: batch.users.map(Float.init), positives: batch.positives.map(Float.init), pool: batch.pool.map(Float.init))
            try ADARSynthesizer(schedule: table, configuration: config).synthesize(
                rows, noise: .explicit(epsilon.map(Float.init)), generator: generator, into: buffers, threads: 1)
        }
        return (RowOutcome(
            status: buffers.statuses[0], timestep: Int(buffers.timesteps[0]),
            aStar: Double(buffers.aStars[0]), retention: Double(buffers.retentions[0]),
            positiveScore: Double(buffers.positiveScores[0]),
            referenceNegativeScore: Double(buffers.referenceNegativeScores[0]),
            syntheticScore: Double(buffers.syntheticScores[0]), hardestCandidate: Int(buffers.hardestCandidates[0]),
            syntheticNegative: buffers.syntheticNegative(0).map(Double.init)), buffers.forwardFallbacks[0])
    }

    /// S7 for a given outcome by the module's `lossRow`. The module's gradient
    /// buffers hold `∂L/∂e_{j_1}` and `∂L/∂e_{j_h}` apart; the pool gradient
    /// scatters them into candidates 1 and `h` (one sum when `h = 1`), as a
    /// trainer applies them.
    static func loss(_ input: OperationInput) throws(EvaluationError) -> JSONValue {
        let (table, config, batch, outcome) = try ReferenceEvaluator.lossInputs(input)
        let d = batch.dimension
        let pool = batch.pool.map(Float.init)
        let row = ADARSynthesizer(schedule: table, configuration: config).lossRow(
            user: batch.users.map(Float.init), positive: batch.positives.map(Float.init), negative: Array(pool[0..<d]),
            status: outcome.status, timestep: outcome.timestep, syntheticNegative: outcome.syntheticNegative.map(Float.init))
        var poolGradient = [Float](repeating: 0, count: pool.count)
        for k in 0..<d {
            poolGradient[k] = row.negativeGradient[k]
            poolGradient[outcome.hardestCandidate * d + k] += row.fallbackGradient[k]
        }
        return ReferenceEvaluator.lossOutput(
            loss: Double(row.loss), user: row.userGradient.map(Double.init), positive: row.positiveGradient.map(Double.init),
            pool: poolGradient.map(Double.init), dimension: d)
    }

    // MARK: - S9 τ in binary32 (Sources/ADAR/Tau)

    /// `PE(t)` as `TauNetwork32` tabulates it: binary64, rounded once.
    static func positionalEncoding(_ input: OperationInput) throws(EvaluationError) -> JSONValue {
        let t = try ReferenceEvaluator.encodingTimestep(input), d = try ReferenceEvaluator.tauDimension(input, initialisation: false)
        // The module tabulates PE for 0…t: the limits of a τ bound to T = t.
        try refusing { () throws(ADARError) in
            try ADARLimits.check("timestep", t, atMost: ADARLimits.maxSteps)
            try ADARLimits.checkArrayCount("(T + 1)·d", t + 1, d)
        }
        let row = TauNetwork32.positionalTable(dimension: d, steps: t)[(t * d)...]
        return .object([("encoding", .reals(row.map { Double(Float($0)) }))])
    }

    /// `TauNetwork32`'s own initialisation.
    static func tauInit(_ input: OperationInput) throws(EvaluationError) -> JSONValue {
        let seed = try input.unsigned64("seed"), d = try ReferenceEvaluator.tauDimension(input, initialisation: true)
        let network = try refusing { () throws(ADARError) in try TauNetwork32(dimension: d, steps: 1, seed: seed) }
        return .object(ReferenceEvaluator.tauParameterFields(TauParameters(dimension: d, flattened: network.parameters.map(Double.init))))
    }

    /// A `TauNetwork32` holding the request's weights, its `PE` table reaching `t`.
    static func network(_ p: TauParameters, steps: Int) throws(EvaluationError) -> TauNetwork32 {
        try refusing { () throws(ADARError) in
            try TauNetwork32(dimension: p.dimension, steps: max(steps, 1), parameters: p.flattened.map(Float.init))
        }
    }

    /// τ's batched forward pass on one row.
    static func tauForward(_ input: OperationInput) throws(EvaluationError) -> JSONValue {
        let (parameters, xt, t, user) = try ReferenceEvaluator.tauForwardInputs(input)
        let epsilonHat = try network(parameters, steps: t).forward(xt: xt.map(Float.init), timesteps: [t], users: user.map(Float.init))
        return .object([("epsilonHat", .reals(epsilonHat.map(Double.init)))])
    }

    /// The module's `x_t`, τ's forward pass, `r_t` rounded once, and the
    /// reconstruction kernel of the `denoised` generator.
    static func denoise(_ input: OperationInput) throws(EvaluationError) -> JSONValue {
        let (table, sigma, parameters, x0, epsilon, t, user) = try ReferenceEvaluator.denoiseInputs(input)
        let d = x0.count
        let config = try refusing { () throws(ADARError) in try ADARConfiguration(sigma: sigma) }
        let x = x0.map(Float.init), e = epsilon.map(Float.init), u = user.map(Float.init)
        let xt = ADARSynthesizer(schedule: table, configuration: config).forwardSample(x0: x, epsilon: e, timestep: t)
        let epsilonHat = try network(parameters, steps: table.steps).forward(xt: xt, timesteps: [t], users: u)
        let ratio = Float(ADARSynthesizer.noiseRatios(table)[t])
        var reconstruction = [Float](repeating: 0, count: d)
        _ = reconstruction.withUnsafeMutableBufferPointer { out in
            TauKernels32.reconstructAndScore(x, Float(sigma) * ratio, e, epsilonHat, user: u, into: out.baseAddress!, d)
        }
        return ReferenceEvaluator.denoiseOutput(
            epsilonHat: epsilonHat.map(Double.init), reconstruction: reconstruction.map(Double.init), ratio: Double(ratio))
    }

    /// S9's training step (2) as `TauTrainer32.step` takes it, with the given rows for its
    /// draws: `x_t′` by the module's `forwardSample` (the trainer's `noisedSample`), τ's
    /// batched loss and gradient, then `TauTrainer32.adamStep` from the given moments.
    static func tauStep(_ input: OperationInput) throws(EvaluationError) -> JSONValue {
        let s = try ReferenceEvaluator.tauStepInputs(input)
        let d = s.dimension
        let config = try refusing { () throws(ADARError) in try ADARConfiguration(sigma: s.sigma) }
        let synthesizer = ADARSynthesizer(schedule: s.table, configuration: config)
        let targets = s.targets.map(Float.init), positives = s.positives.map(Float.init)
        var xt = [Float]()
        for b in 0..<s.rows {
            let row = b * d ..< (b + 1) * d
            xt += synthesizer.forwardSample(x0: Array(positives[row]), epsilon: Array(targets[row]), timestep: s.timesteps[b])
        }
        let network = try network(s.parameters, steps: s.table.steps)
        let (loss, gradient) = network.lossAndGradient(xt: xt, timesteps: s.timesteps, users: s.users.map(Float.init), targets: targets)
        // As the trainer: a non-finite gradient would poison every parameter through the moments.
        guard loss.isFinite, gradient.allSatisfy({ $0.isFinite }) else { throw .refused(.overflow(row: 0, field: "tauGradient")) }
        var parameters = network.parameters, m = s.firstMoment.flattened.map(Float.init), v = s.secondMoment.flattened.map(Float.init)
        TauTrainer32.adamStep(
            parameters: &parameters, firstMoment: &m, secondMoment: &v, gradient: gradient, step: s.step, learningRate: Float(s.learningRate))
        func widened(_ values: [Float]) -> TauParameters { TauParameters(dimension: d, flattened: values.map(Double.init)) }
        return ReferenceEvaluator.tauStepOutput(loss: Double(loss), parameters: widened(parameters), firstMoment: widened(m), secondMoment: widened(v))
    }
}
