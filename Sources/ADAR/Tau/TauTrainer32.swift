import Foundation
import ADARCore

/// Training of τ (spec S9), binary32: per batch one Adam step (β₁ 0.9,
/// β₂ 0.999, ε 10⁻⁸, bias-corrected, no weight decay, step count kept) on
/// the mean over the batch's rows of `L_τ = ‖ε′ − τ_θ(x_t′, PE(t′), e_u)‖²/d`.
/// Results are bit-identical for any thread count.
public final class TauTrainer32: @unchecked Sendable {
    public private(set) var network: TauNetwork32
    public let learningRate: Float
    /// Adam steps taken so far (kept across epochs).
    public private(set) var stepCount = 0
    private var firstMoment: [Float], secondMoment: [Float], gradient: [Float]
    private let workspace: TauWorkspace32

    public init(network: TauNetwork32, learningRate: Double) throws(ADARError) {
        guard learningRate.isFinite, learningRate > 0 else {
            throw .invalidConfiguration(field: "learningRate", reason: "must be finite and > 0, got \(learningRate)")
        }
        self.network = network
        self.learningRate = Float(learningRate)
        let count = network.parameters.count
        firstMoment = [Float](repeating: 0, count: count)
        secondMoment = [Float](repeating: 0, count: count)
        gradient = [Float](repeating: 0, count: count)
        workspace = TauWorkspace32(dimension: network.dimension)
    }

    /// One training step on a batch in the training form; returns the batch's
    /// `L_τ` before the step. Row `b` of the batch is global row
    /// `rowOffset + b` (S8, as in synthesis); `epoch` is 1-based.
    @discardableResult
    public func step(
        _ input: IndexedRows32, synthesizer: ADARSynthesizer, seed: UInt64, epoch: Int, rowOffset: UInt64,
        threads: Int = ADARSynthesizer.defaultThreadCount
    ) throws(ADARError) -> Float {
        try input.withAccess { (access) throws(ADARError) -> Float in
            try step(access, rows: input.rows, synthesizer: synthesizer, seed: seed, epoch: epoch, numbering: .contiguous(from: rowOffset),
                     threads: threads)
        }
    }

    /// `step` on rows that are not numbered contiguously: row `b` of the batch is
    /// global row `rowNumbers[b]` (SASRec's training rows, which skip padding rows, S10).
    @discardableResult
    public func step(
        _ input: IndexedRows32, synthesizer: ADARSynthesizer, seed: UInt64, epoch: Int, rowNumbers: [UInt64],
        threads: Int = ADARSynthesizer.defaultThreadCount
    ) throws(ADARError) -> Float {
        guard rowNumbers.count == input.rows else { throw .shapeMismatch(field: "rowNumbers", expected: input.rows, actual: rowNumbers.count) }
        return try input.withAccess { (access) throws(ADARError) -> Float in
            try step(access, rows: input.rows, synthesizer: synthesizer, seed: seed, epoch: epoch, numbering: .listed(rowNumbers), threads: threads)
        }
    }

    /// `step` on dense rows (the pool is not read).
    @discardableResult
    public func step(
        _ input: DenseRows32, synthesizer: ADARSynthesizer, seed: UInt64, epoch: Int, rowOffset: UInt64,
        threads: Int = ADARSynthesizer.defaultThreadCount
    ) throws(ADARError) -> Float {
        try input.withAccess { (access) throws(ADARError) -> Float in
            try step(access, rows: input.rows, synthesizer: synthesizer, seed: seed, epoch: epoch, numbering: .contiguous(from: rowOffset),
                     threads: threads)
        }
    }

    /// `step`'s loss and gradient at the current parameters, without the Adam
    /// step (package access: for the equivalence checks).
    package func lossAndGradient(
        _ input: DenseRows32, synthesizer: ADARSynthesizer, seed: UInt64, epoch: Int, rowOffset: UInt64, threads: Int = 1
    ) throws(ADARError) -> (loss: Float, gradient: [Float]) {
        let loss = try input.withAccess { (access) throws(ADARError) -> Float in
            try lossAndGradient(access, rows: input.rows, synthesizer: synthesizer, seed: seed, epoch: epoch,
                                numbering: .contiguous(from: rowOffset), threads: threads)
        }
        return (loss, gradient)
    }

    /// S9's draws for global row `b` in epoch `E`: `t′ = 1 + ⌊w₀·T/2³²⌋`, `w₀`
    /// word 0 of Philox on counter `(2³² − 1, low32(b), high32(b), 2³¹ + E)`.
    public static func trainingTimestep(seed: UInt64, epoch: Int, row b: UInt64, steps: Int) -> Int {
        let key = SIMD2(UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32))
        let counter = SIMD4(UInt32.max, UInt32(truncatingIfNeeded: b), UInt32(truncatingIfNeeded: b >> 32), trainingStream(epoch: epoch))
        let w0 = Philox4x32.block(counter: counter, key: key).x
        return 1 + Int((UInt64(w0) * UInt64(steps)) >> 32)
    }

    /// The S8 stream of τ's training noise in epoch `E`: `2³¹ + E`.
    public static func trainingStream(epoch: Int) -> UInt32 { 0x8000_0000 &+ UInt32(truncatingIfNeeded: epoch) }

    /// The global row number (S8) of each of a batch's rows.
    private enum RowNumbering {
        case contiguous(from: UInt64)
        case listed([UInt64])

        func callAsFunction(_ b: Int) -> UInt64 {
            switch self {
            case let .contiguous(offset): offset &+ UInt64(b)
            case let .listed(numbers): numbers[b]
            }
        }
    }

    private func step(
        _ access: RowAccess, rows: Int, synthesizer: ADARSynthesizer, seed: UInt64, epoch: Int, numbering: RowNumbering, threads: Int
    ) throws(ADARError) -> Float {
        let loss = try lossAndGradient(access, rows: rows, synthesizer: synthesizer, seed: seed, epoch: epoch, numbering: numbering, threads: threads)
        // A non-finite gradient would poison every parameter through Adam's moments.
        guard loss.isFinite, gradient.allSatisfy(\.isFinite) else { throw .overflow(row: 0, field: "tauGradient") }
        adamStep()
        return loss
    }

    /// S9's batch loss and its gradient (into `gradient`) at the current parameters.
    private func lossAndGradient(
        _ access: RowAccess, rows: Int, synthesizer: ADARSynthesizer, seed: UInt64, epoch: Int, numbering: RowNumbering, threads: Int
    ) throws(ADARError) -> Float {
        let d = network.dimension
        guard access.dimension == d else { throw .shapeMismatch(field: "dimension", expected: d, actual: access.dimension) }
        guard synthesizer.schedule.steps == network.steps else {
            throw .shapeMismatch(field: "steps", expected: network.steps, actual: synthesizer.schedule.steps)
        }
        guard epoch >= 1 && epoch < 1 << 31 else {
            throw .invalidConfiguration(field: "epoch", reason: "must be in 1…2³¹ − 1, got \(epoch)")
        }
        for b in 0..<rows {
            for (field, vector) in [("user", access.user(b)), ("positive", access.positive(b))] {
                if let k = (0..<d).first(where: { !vector[$0].isFinite }) { throw .nonFinite(row: b, field: field, component: k) }
            }
        }
        workspace.reserve(rows: rows)
        let noise = GaussianNoise32(seed: seed, stream: Self.trainingStream(epoch: epoch))
        let network = network, steps = network.steps, w = workspace
        // V = [x_t′ ; PE(t′) ; e_u] and ε′, per row (S9).
        let chunks = ADARSynthesizer.chunkCount(rows: rows, threads: threads)
        network.positionalEncoding.withUnsafeBufferPointer { pe in
            nonisolated(unsafe) let pe = pe.baseAddress!
            forEachChunk(chunks, threads: threads) { chunk in
                for b in chunkRange(chunk, of: chunks, count: rows) {
                    let row = numbering(b)
                    let t = Self.trainingTimestep(seed: seed, epoch: epoch, row: row, steps: steps)
                    let v = w.inputs + b * 3 * d, target = w.targets + b * d, u = access.user(b)
                    noise.fill(row: row, dimension: d, into: target)
                    _ = synthesizer.noisedSample(timestep: t, x0: access.positive(b), epsilon: target, user: u, into: v, dimension: d)
                    (v + d).update(from: pe + t * d, count: d)
                    (v + 2 * d).update(from: u, count: d)
                }
            }
        }
        let loss = gradient.withUnsafeMutableBufferPointer { g in
            network.lossAndGradient(rows: rows, workspace: w, threads: threads, into: g.baseAddress!)
        }
        return loss
    }

    /// Adam on `gradient` at the next step count.
    private func adamStep() {
        stepCount += 1
        Self.adamStep(
            parameters: &network.parameters, firstMoment: &firstMoment, secondMoment: &secondMoment,
            gradient: gradient, step: stepCount, learningRate: learningRate)
    }

    /// One Adam step (β₁ 0.9, β₂ 0.999, ε 10⁻⁸, bias-corrected, S9) at step
    /// count `step` (after increment, ≥ 1), elementwise on flat arrays of one
    /// layout; the bias corrections `1/(1 − βˢ)` are formed in binary64 and
    /// rounded once. The trainer's step, and the fixture operation `tauStep`.
    package static func adamStep(
        parameters: inout [Float], firstMoment: inout [Float], secondMoment: inout [Float], gradient: [Float], step: Int, learningRate rate: Float
    ) {
        precondition(step >= 1 && [firstMoment.count, secondMoment.count, gradient.count].allSatisfy { $0 == parameters.count })
        let beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8
        let correction1 = Float(1 / (1 - pow(0.9, Double(step))))
        let correction2 = Float(1 / (1 - pow(0.999, Double(step))))
        for i in parameters.indices {
            let g = gradient[i]
            let m = beta1 * firstMoment[i] + (1 - beta1) * g
            let v = beta2 * secondMoment[i] + (1 - beta2) * (g * g)
            firstMoment[i] = m
            secondMoment[i] = v
            parameters[i] -= rate * (m * correction1) / ((v * correction2).squareRoot() + epsilon)
        }
    }
}
