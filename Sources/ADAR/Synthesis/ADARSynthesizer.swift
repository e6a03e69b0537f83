import Foundation
import ADARCore

/// One row's S4/S5 outcome in binary32 (`ADARSynthesizer.transition`).
package struct RowTransition32: Sendable, Equatable {
    package let status: RowStatus
    /// The S4.f timestep; 0 on fallback rows.
    package let timestep: Int
    /// `a*`; NaN where undefined.
    package let aStar: Float
    /// `π_t` at `timestep`; NaN on fallback rows.
    package let retention: Float
}

/// Where the Gaussian noise `ε` comes from (S6, S8), binary32.
public enum Noise32: Sendable {
    /// S8's counter-based stream; row `b` draws as global row `rowOffset + b`.
    case counter(seed: UInt64, stream: UInt32, rowOffset: UInt64)
    /// `ε` given explicitly, `B × d` row-major.
    case explicit([Float])
}

/// The optimised ADAR (spec S2–S6): binary32, SIMD, one fused pass per row,
/// parallel over rows, and bit-identical for any thread count because the
/// noise is counter-based (S8). Prepare once per schedule and configuration;
/// `synthesize` allocates nothing per row.
public struct ADARSynthesizer: Sendable {
    public let schedule: NoiseSchedule
    public let configuration: ADARConfiguration
    @usableFromInline let alphaBar: [Float]
    @usableFromInline let sqrtAlphaBar: [Float]
    @usableFromInline let sqrtOneMinusAlphaBar: [Float]
    /// `z = Φ⁻¹(ρ)`, computed once in binary64 and rounded.
    @usableFromInline let z: Float
    @usableFromInline let sigma: Float
    /// S9's `r_t = √((1 − ᾱ_t)/ᾱ_t)`, binary64 rounded once (`denoised`).
    @usableFromInline let noiseRatio: [Float]

    public init(schedule: NoiseSchedule, configuration: ADARConfiguration) {
        self.schedule = schedule
        self.configuration = configuration
        alphaBar = schedule.alphaBar.map(Float.init)
        sqrtAlphaBar = schedule.sqrtAlphaBar.map(Float.init)
        sqrtOneMinusAlphaBar = schedule.sqrtOneMinusAlphaBar.map(Float.init)
        noiseRatio = Self.noiseRatios(schedule).map(Float.init)
        z = Float(StandardNormal.quantile(configuration.rho))
        sigma = Float(configuration.sigma)
    }

    /// Synthesises one negative per dense row into `output` with `generator` (S9).
    public func synthesize(
        _ input: DenseRows32, noise: Noise32, generator: SynthesisGenerator32 = .forward, into output: SynthesisBuffers,
        threads: Int = defaultThreadCount
    ) throws(ADARError) {
        try input.withAccess { (access) throws(ADARError) in
            try run(access, rows: input.rows, noise: noise, generator: generator, into: output, threads: threads)
        }
    }

    /// Synthesises one negative per row of the training form into `output` with `generator` (S9).
    public func synthesize(
        _ input: IndexedRows32, noise: Noise32, generator: SynthesisGenerator32 = .forward, into output: SynthesisBuffers,
        threads: Int = defaultThreadCount
    ) throws(ADARError) {
        try input.withAccess { (access) throws(ADARError) in
            try run(access, rows: input.rows, noise: noise, generator: generator, into: output, threads: threads)
        }
    }

    /// S9's `r_t = √((1 − ᾱ_t)/ᾱ_t)` in binary64, `t = 0…T`.
    public static func noiseRatios(_ schedule: NoiseSchedule) -> [Double] {
        schedule.alphaBar.map { ((1 - $0) / $0).squareRoot() }
    }

    public static var defaultThreadCount: Int { ProcessInfo.processInfo.activeProcessorCount }

    /// Eight chunks per thread balance rows across cores on a shared machine;
    /// rows are independent, so the count never changes a result.
    static func chunkCount(rows: Int, threads: Int) -> Int {
        Swift.max(1, Swift.min(rows, threads <= 1 ? 1 : threads * 8))
    }

    private func run(
        _ access: RowAccess, rows: Int, noise: Noise32, generator: SynthesisGenerator32, into output: SynthesisBuffers,
        threads: Int
    ) throws(ADARError) {
        let d = access.dimension
        if case let .denoised(network, rMax) = generator {
            do throws(ADARError) {
                guard network.dimension == d else { throw .shapeMismatch(field: "tau.dimension", expected: d, actual: network.dimension) }
                guard network.steps == schedule.steps else {
                    throw .shapeMismatch(field: "tau.steps", expected: schedule.steps, actual: network.steps)
                }
                guard rMax >= 0 else {
                    throw .invalidConfiguration(field: "rMax", reason: "r_max = \(rMax) must be ≥ 0 (S9; default 10)")
                }
            } catch {
                output.prepare(rows: 0, dimension: d)
                throw error
            }
        }
        var epsilonError: (row: Int, error: ADARError)?
        if case let .explicit(epsilon) = noise {
            guard epsilon.count == rows * d else {
                output.prepare(rows: 0, dimension: d)
                throw .shapeMismatch(field: "epsilon", expected: rows * d, actual: epsilon.count)
            }
            if let i = epsilon.firstIndex(where: { !$0.isFinite }) {
                epsilonError = (i / d, .nonFinite(row: i / d, field: "epsilon", component: i % d))
            }
        }
        output.prepare(rows: rows, dimension: d)
        let chunks = Self.chunkCount(rows: rows, threads: threads)
        // Each chunk's scratch starts on its own cache line: rows of
        // neighbouring chunks run on different threads and rewrite it per row.
        // `denoised` adds τ's row: V (3d), H (4d) and ε̂ (d) after the noise.
        let scratchStride = (generator.scratchPerRow(dimension: d) + 15) / 16 * 16
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: chunks * scratchStride * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: chunks * scratchStride)
        defer { scratch.deallocate() }
        let firstErrors = UnsafeMutablePointer<(row: Int, error: ADARError)?>.allocate(capacity: chunks)
        firstErrors.initialize(repeating: nil, count: chunks)
        defer { firstErrors.deinitialize(count: chunks); firstErrors.deallocate() }

        withExplicitNoise(noise) { epsilon in
            withDenoiser(generator) { denoiser in
                nonisolated(unsafe) let scratch = scratch, firstErrors = firstErrors, epsilon = epsilon
                let body = { @Sendable (chunk: Int) in
                    let chunkRows = chunkRange(chunk, of: chunks, count: rows)
                    if let first = chunkRows.first { access.prefetch(first, candidates: 0 ..< access.poolSize) }
                    for row in chunkRows {
                        let next = row + 1 < chunkRows.upperBound ? row + 1 : nil
                        if let error = synthesizeRow(row, prefetching: next, access, noise: noise, epsilon: epsilon, denoiser: denoiser,
                                                     scratch: scratch + chunk * scratchStride, output: output) {
                            firstErrors[chunk] = (row, error)
                            return
                        }
                    }
                }
                forEachChunk(chunks, threads: threads, body)
            }
        }

        // The first offending row wins, whatever the thread count; on the same
        // row an embedding's error comes before ε's (the reference's order).
        var first = epsilonError
        for chunk in 0..<chunks {
            if let found = firstErrors[chunk], first == nil || found.row <= first!.row {
                first = found
                break
            }
        }
        if let first {
            output.prepare(rows: 0, dimension: d)
            throw first.error
        }
        output.commit(rows: rows, usedDenoiser: generator.isDenoised)
    }

    private func withExplicitNoise(_ noise: Noise32, _ body: (UnsafePointer<Float>?) -> Void) {
        if case let .explicit(epsilon) = noise {
            epsilon.withUnsafeBufferPointer { body($0.baseAddress) }
        } else {
            body(nil)
        }
    }

    /// One row: scores (S3), status and timestep (S4, S5), noise (S8) and
    /// `x⁻` (S6). Returns the row's error instead of writing when an input
    /// is non-finite or a score overflows. Prefetches row `next`'s vectors
    /// (see `RowAccess.prefetch`) once this row's are consumed, so that they
    /// arrive during the closed form and the noise, which touch no table.
    @inline(__always)
    private func synthesizeRow(
        _ b: Int, prefetching next: Int?, _ access: RowAccess, noise: Noise32, epsilon: UnsafePointer<Float>?,
        denoiser: DenoisingPass32?, scratch: UnsafeMutablePointer<Float>, output: SynthesisBuffers
    ) -> ADARError? {
        let d = access.dimension, poolSize = access.poolSize
        let u = access.user(b), x0 = access.positive(b)
        let normSquared = Kernels32.dot(u, u, d)
        let s0 = Kernels32.dot(u, x0, d)
        // Pool scores four at a time; the max and the sum still run in pool
        // order, so ties and the rounding of the sum match the reference.
        var first: Float = 0, best: Float = 0, sum: Float = 0, hardest = 0
        func record(_ s: Float, _ m: Int) {
            if m == 0 { first = s; best = s } else if s > best { best = s; hardest = m }
            sum += s
        }
        var m = 0
        while m + 4 <= poolSize {
            let s = Kernels32.dot4(
                u, access.candidate(b, m), access.candidate(b, m + 1), access.candidate(b, m + 2), access.candidate(b, m + 3), d)
            record(s[0], m); record(s[1], m + 1); record(s[2], m + 2); record(s[3], m + 3)
            m += 4
        }
        while m < poolSize {
            record(Kernels32.dot(u, access.candidate(b, m), d), m)
            m += 1
        }
        // Measured: issuing these inside the pool loop instead stalls it on
        // the miss queue (and prefetching two rows ahead gains nothing).
        if let next { access.prefetch(next, candidates: 0 ..< poolSize) }
        // Any non-finite input reaches one of these (x·0 = NaN for x = ±∞).
        guard normSquared.isFinite, s0.isFinite, sum.isFinite else { return diagnose(b, access) }
        let sNeg: Float
        switch configuration.policy {
        case .max: sNeg = best
        case .mean: sNeg = sum / Float(poolSize)
        case .first: sNeg = first
        }
        let n = noiseScale(userNorm: normSquared.squareRoot())
        guard n.isFinite else { return .overflow(row: b, field: "noiseScale") }

        output.positiveScore[b] = s0
        output.referenceNegativeScore[b] = sNeg
        output.hardestCandidate[b] = Int32(hardest)
        let xNeg = output.syntheticNegative + b * d

        let point = transition(s0: s0, sNeg: sNeg, noiseScale: n)
        output.status[b] = point.status
        output.timestep[b] = Int32(point.timestep)
        output.aStar[b] = point.aStar
        output.retention[b] = point.retention
        output.forwardFallback[b] = false
        if point.status.isFallback {
            output.syntheticScore[b] = best
            xNeg.update(from: access.candidate(b, hardest), count: d)
            return nil
        }

        let eps: UnsafePointer<Float>
        if let epsilon {
            eps = epsilon + b * d
        } else {
            guard case let .counter(seed, stream, rowOffset) = noise else { preconditionFailure() }
            GaussianNoise32(seed: seed, stream: stream).fill(row: rowOffset &+ UInt64(b), dimension: d, into: scratch)
            eps = UnsafePointer(scratch)
        }
        let t = point.timestep
        guard let denoiser else {
            output.syntheticScore[b] = noisedSample(timestep: t, x0: x0, epsilon: eps, user: u, into: xNeg, dimension: d)
            return nil
        }
        guard t <= denoiser.lastDenoisedStep else {
            output.forwardFallback[b] = true
            output.syntheticScore[b] = noisedSample(timestep: t, x0: x0, epsilon: eps, user: u, into: xNeg, dimension: d)
            return nil
        }
        let score = denoisedSample(
            timestep: t, x0: x0, epsilon: eps, user: u, denoiser: denoiser, scratch: scratch + d, into: xNeg, dimension: d)
        // A non-finite x̂_0 (τ overflowed) has a non-finite score: e_u ≠ 0 here.
        guard score.isFinite else { return .overflow(row: b, field: "denoised") }
        output.syntheticScore[b] = score
        return nil
    }

    /// S2's score noise scale `n = σ·‖e_u‖` in binary32.
    @inline(__always)
    package func noiseScale(userNorm: Float) -> Float { sigma * userNorm }

    /// S4 + S5 for one row from its scores `s_0`, `s⁻` and noise scale `n`
    /// (finite): the fallback status, or `a*`, the timestep (S4.f on the
    /// binary32 table) and the retention `π_t` there. `synthesize` runs
    /// exactly this per row; at package access it is a white-box hook for
    /// the conformance port and the tolerance claims.
    @inline(__always)
    package func transition(s0: Float, sNeg: Float, noiseScale n: Float) -> RowTransition32 {
        let fallback: RowStatus? = n == 0 ? .degenerateUser : s0 <= sNeg ? .alreadyNegative : s0 <= 0 ? .nonPositiveScore : nil
        if let fallback { return RowTransition32(status: fallback, timestep: 0, aStar: .nan, retention: .nan) }
        let aStar = transitionAmplitude(s0: s0, sNeg: sNeg, n: n)
        let crossing = aStar.flatMap { discreteTimestep(alphaBarStar: $0 * $0) }
        let t = crossing ?? schedule.steps
        let margin = (sqrtAlphaBar[t] * s0 - sNeg) / (sqrtOneMinusAlphaBar[t] * n)
        return RowTransition32(
            status: crossing == nil ? .saturated : .transition, timestep: t, aStar: aStar ?? .nan,
            retention: 0.5 * erfcf(-margin * 0.707_106_77))
    }

    /// S2 (and S6's `x⁻`): `out = √ᾱ_t·x_0 + (√(1 − ᾱ_t)·σ)·ε` over `d`
    /// components, returning `⟨u, out⟩` from the same pass. `synthesize`
    /// runs exactly this per transition row; a white-box hook at package access.
    @inline(__always)
    package func noisedSample(
        timestep t: Int, x0: UnsafePointer<Float>, epsilon: UnsafePointer<Float>, user u: UnsafePointer<Float>,
        into out: UnsafeMutablePointer<Float>, dimension d: Int
    ) -> Float {
        Kernels32.combineAndScore(sqrtAlphaBar[t], x0, sqrtOneMinusAlphaBar[t] * sigma, epsilon, user: u, into: out, d)
    }

    /// S4.d/S4.e in binary32: the same root and the same cancellation-free
    /// branch choice as the reference.
    @inline(__always)
    private func transitionAmplitude(s0: Float, sNeg: Float, n: Float) -> Float? {
        if z == 0 { return sNeg >= 0 ? sNeg / s0 : nil }
        let zn = z * n
        let radicand = (s0 - sNeg) * (s0 + sNeg) + zn * zn
        guard radicand >= 0 else { return nil }
        let b = s0 * sNeg, c = zn * radicand.squareRoot()
        // The product of roots forms s⁻ ± z·n with one rounding each (fma), as the reference does.
        let aStar = (b >= 0) == (c >= 0)
            ? (b + c) / (s0 * s0 + zn * zn)
            : sNeg.addingProduct(-z, n) * sNeg.addingProduct(z, n) / (b - c)
        return aStar >= 0 ? aStar : nil
    }

    /// S4.f: `min{ t ≥ 1 : ᾱ_t ≤ ᾱ* }` on the binary32 table, or nil.
    @inline(__always)
    private func discreteTimestep(alphaBarStar: Float) -> Int? {
        let steps = schedule.steps
        guard alphaBar[steps] <= alphaBarStar else { return nil }
        var low = 1, high = steps
        while low < high {
            let mid = (low + high) / 2
            if alphaBar[mid] <= alphaBarStar { high = mid } else { low = mid + 1 }
        }
        return low
    }

    /// Names the first non-finite input of row `b` (user, positive, pool[m]),
    /// or reports an overflow when every input is finite.
    private func diagnose(_ b: Int, _ access: RowAccess) -> ADARError {
        let d = access.dimension
        let fields = [("user", access.user(b)), ("positive", access.positive(b))]
            + (0..<access.poolSize).map { ("pool[\($0)]", access.candidate(b, $0)) }
        for (field, values) in fields {
            if let k = (0..<d).first(where: { !values[$0].isFinite }) {
                return .nonFinite(row: b, field: field, component: k)
            }
        }
        return .overflow(row: b, field: "scores")
    }
}
