import Foundation
import ADARCore
import ADARReference
import ADAR

/// The optimised τ under test: the production one, or a broken variant
/// substituted by the tests (the planted bugs of Proofs/S9-binary32-tau.md).
public struct TauSubject: Sendable {
    /// The network the optimised side runs, given the case's network.
    public var network: @Sendable (TauNetwork32) -> TauNetwork32 { didSet { origin = .custom } }
    public var makeSynthesizer: @Sendable (NoiseSchedule, ADARConfiguration) -> ADARSynthesizer { didSet { origin = .custom } }
    /// The batch gradient with `threads` (S9/E4), as bit patterns.
    public var gradient: @Sendable (TauNetwork32, TauCase, Int) -> [UInt32] { didSet { origin = .custom } }
    /// One Adam step on flat arrays (S9/E5): parameters, moments, gradient, step count, learning rate.
    public typealias AdamStep = @Sendable (inout [Float], inout [Float], inout [Float], [Float], Int, Float) -> Void
    public var adamStep: AdamStep { didSet { origin = .custom } }
    /// Where the subject came from, for the Swift test a shrunk counterexample prints.
    var origin = SubjectOrigin.optimised

    public static let optimised = TauSubject(
        network: { $0 },
        makeSynthesizer: { ADARSynthesizer(schedule: $0, configuration: $1) },
        gradient: { network, c, threads in
            let result = network.lossAndGradient(xt: c.xt, timesteps: c.timesteps, users: c.users, targets: c.targets, threads: threads)
            return [result.loss.bitPattern] + result.gradient.map(\.bitPattern)
        },
        adamStep: { TauTrainer32.adamStep(parameters: &$0, firstMoment: &$1, secondMoment: &$2, gradient: $3, step: $4, learningRate: $5) })

    /// The production τ and synthesizer with `bug` planted in the prepared state it concerns.
    public static func injecting(_ bug: InjectedBug) -> TauSubject {
        var subject = TauSubject.optimised
        if let mutation = bug.tauMutation { subject.network = { TauNetwork32(mutating: $0, mutation) } }
        subject.makeSynthesizer = EquivalenceSubject.injecting(bug).makeSynthesizer
        subject.origin = .injected(bug)
        return subject
    }
}

/// One random case of τ's checks: a network with "trained" parameters
/// (S9's initialisation rescaled, random biases) and `B` rows of inputs.
public struct TauCase: Sendable, CustomStringConvertible {
    public let index: Int, caseSeed: UInt64
    public let dimension: Int, steps: Int, rows: Int
    public let network: TauNetwork32
    public let xt: [Float], timesteps: [Int], users: [Float], targets: [Float]
    public let weightScale: Double, inputScale: Double

    public var description: String {
        "case \(index) (case seed \(caseSeed)): d \(dimension), T \(steps), B \(rows), weights ×\(short(weightScale)), "
            + "inputs ×\(short(inputScale)), t \(timesteps)"
    }

    public static func make(sweepSeed: UInt64, index: Int) throws -> TauCase {
        let caseSeed = EquivalenceCaseGenerator.caseSeed(sweepSeed: sweepSeed, index: index)
        var g = SeededGenerator(seed: caseSeed)
        func pick<T>(_ values: [T]) -> T { values[Int(g.next() % UInt64(values.count))] }
        func logUniform(_ low: Double, _ high: Double) -> Double { low * pow(high / low, Double(g.next() >> 11) * 0x1p-53) }
        let d = pick([1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 24, 32]), steps = pick([1, 10, 100, 1000]), rows = pick([1, 2, 3, 5, 8])
        let (network, weightScale) = try network(dimension: d, steps: steps, &g)
        // Inputs from tiny to large: SiLU's tails and cancellation in the sums.
        let inputScale = pick([1, logUniform(1e-3, 1e2)])
        func vector(_ count: Int, _ scale: Double) -> [Float] { (0..<count).map { _ in Float(scale * g.normal()) } }
        return TauCase(
            index: index, caseSeed: caseSeed, dimension: d, steps: steps, rows: rows,
            network: network,
            xt: vector(rows * d, inputScale), timesteps: (0..<rows).map { _ in Int(g.next() % UInt64(steps + 1)) },
            users: vector(rows * d, inputScale), targets: vector(rows * d, 1),
            weightScale: weightScale, inputScale: inputScale)
    }

    /// A "trained" τ: S9's initialisation with the weights rescaled by 1 or
    /// a log-uniform factor in [0.1, 10], biases 0 or Gaussian at a
    /// log-uniform scale in [0.01, 3].
    static func network(dimension d: Int, steps: Int, _ g: inout SeededGenerator) throws -> (network: TauNetwork32, weightScale: Double) {
        func logUniform(_ low: Double, _ high: Double) -> Double { low * pow(high / low, Double(g.next() >> 11) * 0x1p-53) }
        var parameters = try TauNetwork32(dimension: d, steps: steps, seed: g.next()).parameters
        let weightScale = g.next() % 2 == 0 ? 1 : logUniform(0.1, 10)
        let biasScale = g.next() % 2 == 0 ? 0 : logUniform(0.01, 3)
        let b1 = 12 * d * d, w2 = b1 + 4 * d, b2 = w2 + 4 * d * d
        for i in parameters.indices {
            let isBias = (b1 ..< w2).contains(i) || i >= b2
            parameters[i] = isBias ? Float(biasScale * g.normal()) : Float(weightScale * Double(parameters[i]))
        }
        return (try TauNetwork32(dimension: d, steps: steps, parameters: parameters), weightScale)
    }

    /// The reference's parameters: the binary32 ones widened exactly.
    var referenceParameters: TauParameters {
        TauParameters(dimension: dimension, flattened: network.parameters.map(Double.init))
    }

    func row(_ values: [Float], _ b: Int) -> [Float] { Array(values[b * dimension ..< (b + 1) * dimension]) }

    /// `v = [x_t ; PE(t) ; e_u]` enclosed: `x_t`, `e_u` exact, `PE` rounded once.
    func inputEnclosure(_ b: Int) -> [Enclosure] {
        row(xt, b).map { .exact(Double($0)) }
            + ReferenceADAR.positionalEncoding(timestep: timesteps[b], dimension: dimension).map { Enclosure.rounded($0) }
            + row(users, b).map { .exact(Double($0)) }
    }
}

/// Checks of Proofs/S9-binary32-tau.md: the optimised binary32 τ (module
/// ADAR) against the binary64 reference τ (`ReferenceADAR`).
public enum TauEquivalenceChecks {
    public static let ciCases = 24
    public static let longCases = 600
    public static var parallelThreads: Int { EquivalenceChecks.parallelThreads }

    public static var claims: [Claim] { claims(subject: .optimised) }

    /// The claims, checking `subject` (`adar verify --inject-bug` passes a broken one).
    public static func claims(subject: TauSubject) -> [Claim] {
        [
            Claim(id: "S9/E1", title: "binary32 τ forward within the derived bound of the binary64 reference") { try checkForward(seed: $0, subject: subject) },
            Claim(id: "S9/E2", title: "binary32 L_τ and its gradient within the derived bound of the reference") { try checkGradient(seed: $0, subject: subject) },
            Claim(id: "S9/E3", title: "binary32 denoised x⁻ and its score within the derived bound; r_max guard as the reference's") {
                try checkDenoised(seed: $0, subject: subject)
            },
            Claim(id: "S9/E4", title: "binary32 τ forward, gradient, Adam step and denoised synthesis bit-identical for 1 thread and many") {
                try checkThreadInvariance(seed: $0, subject: subject)
            },
            Claim(id: "S9/E5", title: "binary32 Adam step of τ within the derived per-entry bound; undetermined directions within lr·(|u| + U)") {
                try checkAdamStep(seed: $0, subject: subject)
            },
        ]
    }

    /// `claim` on the one case `c`: how a shrunk counterexample is replayed.
    public static func check(_ claim: TauClaim, on c: TauCase, subject: TauSubject = .optimised) throws -> ClaimResult {
        try caseSweep(claim, seed: c.caseSeed, subject: subject).single(c)
    }

    /// `claim` over `TauCase`s drawn from `seed`; its sweep shrinks the first failing case.
    static func caseSweep(_ claim: TauClaim, seed: UInt64, subject: TauSubject) -> CaseSweep<TauCase, TauTally, any Error> {
        CaseSweep(
            claimID: claim.rawValue, emptyTally: TauTally(),
            draw: { try TauCase.make(sweepSeed: seed, index: $0) },
            run: { c, tally in
                switch claim {
                case .forward: runForward(c, subject: subject, into: &tally)
                case .gradient: try runGradient(c, subject: subject, into: &tally)
                case .threadInvariance: try runThreadInvariance(c, subject: subject, into: &tally)
                case .adamStep: runAdamStep(c, subject: subject, into: &tally)
                }
            },
            result: { claim.result($0, cases: $1, seed: seed) },
            check: "TauEquivalenceChecks.check(.\(claim), on: c\(subject.origin.argument))")
    }

    // MARK: S9/E1

    public static func checkForward(seed: UInt64, cases: Int = ciCases, subject: TauSubject = .optimised) throws -> ClaimResult {
        try caseSweep(.forward, seed: seed, subject: subject).sweep(cases: cases)
    }

    static func runForward(_ c: TauCase, subject: TauSubject, into tally: inout TauTally) {
        let got = subject.network(c.network).forward(xt: c.xt, timesteps: c.timesteps, users: c.users)
        let parameters = c.referenceParameters
        for b in 0..<c.rows {
            let expected = ReferenceADAR.predictNoise(
                parameters, noisy: c.row(c.xt, b).map(Double.init), timestep: c.timesteps[b], user: c.row(c.users, b).map(Double.init))
            let bound = TauEquivalenceAnalysis.forward(c.network.parameters, dimension: c.dimension, input: c.inputEnclosure(b)).output
            for k in 0..<c.dimension {
                tally.errors["ε̂", default: .init()].record(Double(got[b * c.dimension + k]), expected[k], bound[k], context: "row \(b) k \(k), \(c)")
            }
        }
    }

    // MARK: S9/E2

    public static func checkGradient(seed: UInt64, cases: Int = ciCases, subject: TauSubject = .optimised) throws -> ClaimResult {
        try caseSweep(.gradient, seed: seed, subject: subject).sweep(cases: cases)
    }

    static func runGradient(_ c: TauCase, subject: TauSubject, into tally: inout TauTally) throws {
        let names = ["W₁", "b₁", "W₂", "b₂"]
        let d = c.dimension
        let got = subject.network(c.network).lossAndGradient(xt: c.xt, timesteps: c.timesteps, users: c.users, targets: c.targets)
        // The reference's batch mean, accumulated in row order (as `tauBatchLoss`).
        let parameters = c.referenceParameters
        var loss = 0.0, gradient = [Double](repeating: 0, count: got.gradient.count)
        for b in 0..<c.rows {
            let row = ReferenceADAR.tauLoss(
                parameters, noisy: c.row(c.xt, b).map(Double.init), timestep: c.timesteps[b],
                user: c.row(c.users, b).map(Double.init), target: c.row(c.targets, b).map(Double.init))
            loss += row.loss
            for (k, g) in row.gradient.flattened.enumerated() { gradient[k] += g }
        }
        loss /= Double(c.rows)
        gradient = gradient.map { $0 / Double(c.rows) }
        let bound = TauEquivalenceAnalysis.lossAndGradient(
            c.network.parameters, dimension: d, inputs: (0..<c.rows).map(c.inputEnclosure),
            targets: (0..<c.rows).map { c.row(c.targets, $0).map { .exact(Double($0)) } })
        tally.errors["L_τ", default: .init()].record(Double(got.loss), loss, bound.loss, context: "\(c)")
        let offsets = [0, 12 * d * d, 12 * d * d + 4 * d, 16 * d * d + 4 * d, 16 * d * d + 5 * d]
        for part in 0..<4 {
            for k in offsets[part] ..< offsets[part + 1] {
                tally.errors["∂L/∂" + names[part], default: .init()].record(
                    Double(got.gradient[k]), gradient[k], bound.gradient[k], context: "entry \(k - offsets[part]), \(c)")
            }
        }
        try compareTrainerDraws(c, subject: subject, into: &tally.errors)
    }

    /// End to end through `TauTrainer32`'s own draws: the case's `x_t` as
    /// `x_0`, `t′` (exact), `ε′` by the binary32 Box–Muller (within S8/B3's
    /// `E`), `x_t′` by `noisedSample` (S6/E2's enclosure), against the
    /// reference's `tauBatchLoss`.
    static func compareTrainerDraws(_ c: TauCase, subject: TauSubject, into tally: inout [String: ErrorTally]) throws {
        let d = c.dimension, sigma = 0.5, epoch = 1 + Int(c.caseSeed % 5), firstRow = c.caseSeed >> 40
        let schedule = try NoiseSchedule(.defaultCosine, steps: c.steps)
        let configuration = try ADARConfiguration(sigma: sigma)
        let batch = try DenseRows32(rows: c.rows, dimension: d, poolSize: 1, users: c.users, positives: c.xt, pool: c.targets)
        let trainer = try TauTrainer32(network: subject.network(c.network), learningRate: 1e-3)
        let got = try trainer.lossAndGradient(
            batch, synthesizer: subject.makeSynthesizer(schedule, configuration), seed: c.caseSeed, epoch: epoch, rowOffset: firstRow)
        let expected = ReferenceADAR.tauBatchLoss(
            c.referenceParameters, users: c.users.map(Double.init), positives: c.xt.map(Double.init), firstRow: firstRow,
            seed: c.caseSeed, epoch: epoch, schedule: schedule, sigma: sigma)
        var inputs = [[Enclosure]](), targets = [[Enclosure]]()
        for b in 0..<c.rows {
            let row = firstRow &+ UInt64(b)
            let draw = ReferenceADAR.tauTrainingDraw(seed: c.caseSeed, epoch: epoch, row: row, dimension: d, steps: c.steps)
            let t = TauTrainer32.trainingTimestep(seed: c.caseSeed, epoch: epoch, row: row, steps: c.steps)
            tally["t′", default: .init()].recordExact(t == draw.timestep, context: "row \(b): t′ \(t), reference \(draw.timestep); \(c)")
            let xt = c.row(c.xt, b).withUnsafeBufferPointer {
                EquivalenceAnalysis.syntheticNegative(
                    positive: $0, epsilon: draw.epsilon, noiseError: Binary32Model.counterNoiseError, timestep: draw.timestep,
                    schedule: schedule, sigma: sigma)
            }
            inputs.append(xt + ReferenceADAR.positionalEncoding(timestep: draw.timestep, dimension: d).map { Enclosure.rounded($0) }
                          + c.row(c.users, b).map { .exact(Double($0)) })
            targets.append(draw.epsilon.map { Enclosure($0, radius: Binary32Model.counterNoiseError($0)) })
        }
        let bound = TauEquivalenceAnalysis.lossAndGradient(c.network.parameters, dimension: d, inputs: inputs, targets: targets)
        tally["L_τ (trainer's draws)", default: .init()].record(Double(got.loss), expected.loss, bound.loss, context: "\(c)")
        let reference = expected.gradient.flattened
        for k in reference.indices {
            tally["∂L/∂θ (trainer's draws)", default: .init()].record(
                Double(got.gradient[k]), reference[k], bound.gradient[k], context: "entry \(k), \(c)")
        }
    }

    // MARK: S9/E3

    /// S9/E3 runs S6's cases up to this `d` (τ's analysis costs ~16d² per row).
    public static let denoisedMaxDimension = 64
    /// S6's cases S9/E3 draws in CI (about a third have `d ≤ 64`).
    public static let denoisedCICases = 96

    /// `denoised` synthesis on S6's equivalence cases (random and adversarial
    /// rows, every schedule kind, counter and explicit noise) with a τ of the
    /// case's `d` and `T` and `r_max` drawn around the case's `r_t`. Rows whose
    /// status or `t` differ from the reference's (S6/E1 boundary cases) are
    /// not compared.
    public static func checkDenoised(seed: UInt64, cases: Int = denoisedCICases, subject: TauSubject = .optimised) throws -> ClaimResult {
        try denoisedSweep(seed: seed, subject: subject).sweep(cases: cases)
    }

    /// S9/E3 on the one case `c`: how a shrunk counterexample is replayed.
    public static func checkDenoised(on c: EquivalenceCase, subject: TauSubject = .optimised) throws -> ClaimResult {
        try denoisedSweep(seed: c.caseSeed, subject: subject).single(c)
    }

    static func denoisedSweep(seed: UInt64, subject: TauSubject) -> CaseSweep<EquivalenceCase, TauTally, any Error> {
        CaseSweep(
            claimID: "S9/E3", emptyTally: TauTally(),
            draw: { try EquivalenceCaseGenerator.make(sweepSeed: seed, index: $0) },
            run: { try runDenoised($0, subject: subject, into: &$1) },
            result: { tally, cases in
                let result = ErrorTally.result(id: "S9/E3", tally.errors, cases: cases, seed: seed)
                return ClaimResult(
                    id: result.id,
                    statistic: "\(tally.denoisedRows) denoised rows, \(tally.guarded) r_max-guarded rows, "
                        + "\(tally.skipped) rows with another status or t* (S6/E1 boundary) not compared, "
                        + "\(tally.largeCases) cases with d > \(denoisedMaxDimension) skipped; " + result.statistic,
                    measure: result.measure, seed: seed, worstCase: result.worstCase)
            },
            check: "TauEquivalenceChecks.checkDenoised(on: c\(subject.origin.argument))")
    }

    /// S9/E3 on one of S6's cases, with τ and `r_max` drawn from the case seed.
    static func runDenoised(_ c: EquivalenceCase, subject: TauSubject, into tally: inout TauTally) throws {
        let d = c.dimension
        guard d <= denoisedMaxDimension else {
            tally.largeCases += 1
            return
        }
        var g = SeededGenerator(seed: c.caseSeed ^ 0x7A75)
        let tau = try TauCase.network(dimension: d, steps: c.schedule.steps, &g).network
        let ratios = ReferenceADAR.denoisingRatios(c.schedule)
        let rMax = [10, 10, ratios[Int(g.next() % UInt64(ratios.count))], 0][Int(g.next() % 4)]
        let context = { "\(c); r_max \(rMax)" }
        let output = SynthesisBuffers()
        let synthesizer = subject.makeSynthesizer(c.schedule, c.configuration)
        let reference: GeneratedNegatives
        do {
            reference = try ReferenceADAR.synthesize(
                try c.batch, schedule: c.schedule, configuration: c.configuration,
                generator: .denoised(TauParameters(dimension: d, flattened: tau.parameters.map(Double.init)), maxRatio: rMax))
        } catch {
            // binary64 overflowed, so binary32 (smaller range) must refuse too.
            let refused = (try? synthesizer.synthesize(c.dense, noise: c.noise, generator: .denoised(subject.network(tau), rMax: rMax), into: output)) == nil
            tally.errors["refusals", default: .init()].recordExact(refused, context: "reference refused (\(error)), binary32 did not: \(context())")
            return
        }
        do {
            try synthesizer.synthesize(c.dense, noise: c.noise, generator: .denoised(subject.network(tau), rMax: rMax), into: output)
        } catch {
            // Accepted where forward refuses too (S6/E1 judges that) or
            // where τ's enclosures say some row may leave the binary32 range.
            let forwardRefuses = (try? synthesizer.synthesize(c.dense, noise: c.noise, into: SynthesisBuffers())) == nil
            let possible = forwardRefuses
                || (0..<c.rows).contains { b in rowBounds(c, b, tau, reference.outcomes[b], ratios).contains { !$0.isBounded } }
            tally.errors["refusals", default: .init()].recordExact(possible, context: "binary32 refused (\(error)) with every row in range: \(context())")
            return
        }
        let guardRows = Set(reference.forwardByRatioGuard)
        for b in 0..<c.rows {
            let expected = reference.outcomes[b]
            guard output.statuses[b] == expected.status, Int(output.timesteps[b]) == expected.timestep else {
                tally.skipped += 1
                continue
            }
            tally.errors["guard", default: .init()].recordExact(
                output.forwardFallbacks[b] == guardRows.contains(b), context: "row \(b) guard \(output.forwardFallbacks[b]): \(context())")
            guard !expected.status.isFallback, !guardRows.contains(b) else {
                tally.guarded += guardRows.contains(b) ? 1 : 0
                continue
            }
            tally.denoisedRows += 1
            let bounds = rowBounds(c, b, tau, expected, ratios)
            let x = output.syntheticNegative(b)
            for k in 0..<d {
                tally.errors["x̂_0", default: .init()].record(Double(x[k]), expected.syntheticNegative[k], bounds[k], context: "row \(b) k \(k), \(context())")
            }
            tally.errors["⟨e_u, x̂_0⟩", default: .init()].record(
                Double(output.syntheticScores[b]), expected.syntheticScore, bounds[d], context: "row \(b), \(context())")
        }
    }

    /// The enclosures of row `b`'s `x̂_0` (`d` values) and its score (last):
    /// `x_t` (S6/E2's enclosure), τ's forward on `[x_t ; PE(t) ; e_u]`, then
    /// `x_0 + fl(σ̂·r̂_t)·(ε − ε̂)` and `⟨e_u, x̂_0⟩`.
    static func rowBounds(_ c: EquivalenceCase, _ b: Int, _ tau: TauNetwork32, _ outcome: RowOutcome, _ ratios: [Double]) -> [Enclosure] {
        let d = c.dimension, t = outcome.timestep
        guard !outcome.status.isFallback else { return [] }
        let user = Array(c.users[b * d ..< (b + 1) * d]), positive = Array(c.positives[b * d ..< (b + 1) * d])
        let (epsilon, noiseError): ([Double], (Double) -> Double)
        switch c.noise {
        case let .explicit(values): (epsilon, noiseError) = (values[b * d ..< (b + 1) * d].map(Double.init), { _ in 0 })
        case let .counter(seed, stream, rowOffset):
            (epsilon, noiseError) = (GaussianNoise(seed: seed, stream: stream).row(rowOffset &+ UInt64(b), dimension: d), Binary32Model.counterNoiseError)
        }
        let xt = positive.withUnsafeBufferPointer {
            EquivalenceAnalysis.syntheticNegative(
                positive: $0, epsilon: epsilon, noiseError: noiseError, timestep: t, schedule: c.schedule, sigma: c.configuration.sigma)
        }
        let input = xt + ReferenceADAR.positionalEncoding(timestep: t, dimension: d).map { Enclosure.rounded($0) } + user.map { .exact(Double($0)) }
        let predicted = TauEquivalenceAnalysis.forward(tau.parameters, dimension: d, input: input).output
        let scale = Enclosure.rounded(c.configuration.sigma) * Enclosure.rounded(ratios[t])
        let x = (0..<d).map { k in
            Enclosure.exact(Double(positive[k])) + scale * (Enclosure(epsilon[k], radius: noiseError(epsilon[k])) - predicted[k])
        }
        return x + [Enclosure.sum((0..<d).map { .exact(Double(user[$0])) * x[$0] })]
    }

    // MARK: S9/E4

    public static func checkThreadInvariance(seed: UInt64, cases: Int = ciCases, subject: TauSubject = .optimised) throws -> ClaimResult {
        try caseSweep(.threadInvariance, seed: seed, subject: subject).sweep(cases: cases)
    }

    static func runThreadInvariance(_ c: TauCase, subject: TauSubject, into tally: inout TauTally) throws {
        let threads = parallelThreads
        let network = subject.network(c.network)
        let forward1 = network.forward(xt: c.xt, timesteps: c.timesteps, users: c.users, threads: 1)
        let forwardN = network.forward(xt: c.xt, timesteps: c.timesteps, users: c.users, threads: threads)
        tally.bitwise.record(forward1.map(\.bitPattern) == forwardN.map(\.bitPattern), context: "forward: \(c)")
        tally.bitwise.record(subject.gradient(network, c, 1) == subject.gradient(network, c, threads), context: "gradient: \(c)")
        // Two Adam steps of the trainer on the case's rows as a batch.
        let schedule = try NoiseSchedule(.defaultCosine, steps: c.steps)
        let synthesizer = subject.makeSynthesizer(schedule, try ADARConfiguration(sigma: 0.5))
        let batch = try DenseRows32(rows: c.rows, dimension: c.dimension, poolSize: 1, users: c.users, positives: c.xt, pool: c.targets)
        var parameters = [[UInt32]]()
        for count in [1, threads] {
            let trainer = try TauTrainer32(network: network, learningRate: 1e-3)
            for epoch in 1...2 { try trainer.step(batch, synthesizer: synthesizer, seed: c.caseSeed, epoch: epoch, rowOffset: 3, threads: count) }
            parameters.append(trainer.network.parameters.map(\.bitPattern))
        }
        tally.bitwise.record(parameters[0] == parameters[1], context: "Adam steps: \(c)")
        // denoised synthesis.
        var outputs = [[UInt32]]()
        for count in [1, threads] {
            let output = SynthesisBuffers()
            try synthesizer.synthesize(batch, noise: .counter(seed: c.caseSeed, stream: 1, rowOffset: 0), generator: .denoised(network), into: output, threads: count)
            outputs.append(output.syntheticNegatives.map(\.bitPattern) + output.syntheticScores.map(\.bitPattern))
        }
        tally.bitwise.record(outputs[0] == outputs[1], context: "denoised synthesis: \(c)")
    }

    // MARK: S9/E5

    /// One Adam step of the optimised τ (its batched gradient, then `TauTrainer32.adamStep`) against
    /// the reference's (`tauLoss` per row, the mean in row order, `ReferenceADAR.adamStep`) on S9/E1's
    /// cases with a drawn Adam state: step 1 from zero moments or `s ∈ {2, 10, 1000, 10⁵}` with moments
    /// of the gradient's size (`v ≥ m²`), `lr ∈ {10⁻³, 10⁻², 2⁻¹⁴}`; in a quarter of the cases the targets
    /// are τ's own binary32 output (a τ at its target: the binary32 gradient is 0 where the reference's is
    /// not, so the directions are undetermined). Every entry of `θ′`, `m′`, `v′` within `AdamStepEnclosure`.
    public static func checkAdamStep(seed: UInt64, cases: Int = ciCases, subject: TauSubject = .optimised) throws -> ClaimResult {
        try caseSweep(.adamStep, seed: seed, subject: subject).sweep(cases: cases)
    }

    static func runAdamStep(_ c: TauCase, subject: TauSubject, into tally: inout TauTally) {
        var g = SeededGenerator(seed: c.caseSeed ^ 0xADA3)
        let network = subject.network(c.network)
        let atTarget = g.next() % 4 == 0
        let targets = atTarget ? network.forward(xt: c.xt, timesteps: c.timesteps, users: c.users) : c.targets
        let step = [1, 1, 2, 10, 1000, 100_000][Int(g.next() % 6)]
        let learningRate = [Float(1e-3), Float(1e-2), 0x1p-14][Int(g.next() % 3)]
        let got = network.lossAndGradient(xt: c.xt, timesteps: c.timesteps, users: c.users, targets: targets)
        let parameters = c.referenceParameters
        var gradient = [Double](repeating: 0, count: got.gradient.count)
        for b in 0..<c.rows {
            let row = ReferenceADAR.tauLoss(
                parameters, noisy: c.row(c.xt, b).map(Double.init), timestep: c.timesteps[b],
                user: c.row(c.users, b).map(Double.init), target: c.row(targets, b).map(Double.init))
            for (k, value) in row.gradient.flattened.enumerated() { gradient[k] += value }
        }
        gradient = gradient.map { $0 / Double(c.rows) }
        // Moments a history of gradients of this size leaves: |m| ≲ |g| plus a floor, v ≥ m².
        func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * Double(g.next() >> 11) * 0x1p-53 }
        let m: [Float] = step == 1 ? Array(repeating: 0, count: gradient.count)
            : gradient.map { Float($0 * uniform(-1, 1) + uniform(-1e-3, 1e-3)) }
        let v: [Float] = step == 1 ? Array(repeating: 0, count: gradient.count)
            : zip(gradient, m).map { Float($0 * $0 * uniform(0.2, 2) + Double($1) * Double($1) * uniform(1, 2)) }
        var theta = network.parameters, firstMoment = m, secondMoment = v
        subject.adamStep(&theta, &firstMoment, &secondMoment, got.gradient, step, learningRate)
        let d = c.dimension
        var trainer = TauTrainer(
            seed: 0, learningRate: Double(learningRate), parameters: parameters,
            firstMoment: TauParameters(dimension: d, flattened: m.map(Double.init)),
            secondMoment: TauParameters(dimension: d, flattened: v.map(Double.init)), steps: step - 1)
        ReferenceADAR.adamStep(&trainer, gradient: TauParameters(dimension: d, flattened: gradient))
        let expected = (trainer.parameters.flattened, trainer.firstMoment.flattened, trainer.secondMoment.flattened)
        let bounds = TauEquivalenceAnalysis.lossAndGradient(
            c.network.parameters, dimension: d, inputs: (0..<c.rows).map(c.inputEnclosure),
            targets: (0..<c.rows).map { c.row(targets, $0).map { .exact(Double($0)) } }).gradient
        let context = { (k: Int) in "entry \(k), s \(step), lr \(learningRate)\(atTarget ? ", targets at τ's output" : ""), \(c)" }
        for k in theta.indices {
            let bound = AdamStepEnclosure(
                parameter: network.parameters[k], firstMoment: m[k], secondMoment: v[k], gradient: bounds[k], step: step, learningRate: learningRate)
            tally.entries += 1
            if bound.directionUndetermined { tally.undetermined += 1 }
            let name = bound.directionUndetermined ? "θ′ (direction undetermined)" : "θ′"
            tally.errors[name, default: .init()].record(Double(theta[k]), expected.0[k], bound.parameter, context: context(k))
            tally.errors["m′", default: .init()].record(Double(firstMoment[k]), expected.1[k], bound.firstMoment, context: context(k))
            tally.errors["v′", default: .init()].record(Double(secondMoment[k]), expected.2[k], bound.secondMoment, context: context(k))
        }
    }
}

/// The claims that sweep `TauCase`s (S9/E3 sweeps S6's cases instead).
public enum TauClaim: String, CaseIterable, Sendable {
    case forward = "S9/E1", gradient = "S9/E2", threadInvariance = "S9/E4", adamStep = "S9/E5"

    func result(_ tally: TauTally, cases: Int, seed: UInt64) -> ClaimResult {
        switch self {
        case .forward, .gradient:
            return ErrorTally.result(id: rawValue, tally.errors, cases: cases, seed: seed)
        case .adamStep:
            return ErrorTally.result(
                id: rawValue, tally.errors, cases: cases, seed: seed,
                scope: " (\(tally.entries) entries, \(tally.undetermined) with an undetermined direction)")
        case .threadInvariance:
            let b = tally.bitwise
            return ClaimResult(
                id: rawValue,
                statistic: "\(b.cases) calls (forward, gradient, 2 Adam steps, denoised synthesis), 1 thread vs \(TauEquivalenceChecks.parallelThreads): bitwise",
                measure: .exact(mismatches: b.mismatches, cases: b.cases), seed: seed, worstCase: b.firstMismatch ?? "")
        }
    }
}

/// What τ's claims tally over their cases.
struct TauTally {
    var errors = [String: ErrorTally]()
    var bitwise = BitwiseTally()
    /// S9/E5: Adam entries, and those whose direction is undetermined.
    var entries = 0, undetermined = 0
    /// S9/E3: rows compared, guarded and skipped, and cases too large for τ's analysis.
    var denoisedRows = 0, guarded = 0, skipped = 0, largeCases = 0
}
