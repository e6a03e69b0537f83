import Testing
import ADARCore
@_spi(Kernels) import ADAR

/// The white-box entry points of `ADARSynthesizer` (package access) answer
/// bit for bit what the batched passes compute for the same row: the
/// conformance port and S6/F1 measure the product through them.
@Suite("ADAR white-box entry points")
struct WhiteBoxTests {
    /// A batch with transition, saturated and fallback rows, `d` with an 8-lane tail.
    static func batch(rows: Int, dimension d: Int, poolSize: Int) throws -> (DenseRows32, epsilon: [Float]) {
        var random = SeededGenerator(seed: 0x5EED_B0C5)
        func floats(_ count: Int, scale: Double) -> [Float] { (0..<count).map { _ in Float(scale * random.normal()) } }
        // Positives and candidates near a multiple c of their user: rows with
        // a candidate at c > 1 fall back, rows whose best c is near 0 or below
        // saturate (ρ < ½), the others cross at varied depths.
        let users = floats(rows * d, scale: 0.3)
        func nearUser(_ b: Int, _ c: Float) -> [Float] { floats(d, scale: 0.05).enumerated().map { c * users[b * d + $0] + $1 } }
        let positives = (0..<rows).flatMap { nearUser($0, 1) }
        let pool = (0..<rows * poolSize).flatMap { nearUser($0 / poolSize, Float.random(in: -1...1.1, using: &random)) }
        let epsilon = floats(rows * d, scale: 1)
        return (try DenseRows32(rows: rows, dimension: d, poolSize: poolSize, users: users, positives: positives, pool: pool), epsilon)
    }

    static func same(_ a: Float, _ b: Float) -> Bool { a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN) }

    @Test("transition, forwardSample and lossRow reproduce synthesize and loss row by row, bit for bit")
    func hooksMatchBatchedPasses() throws {
        let (rows, d, poolSize) = (96, 19, 4)
        let (input, epsilon) = try Self.batch(rows: rows, dimension: d, poolSize: poolSize)
        let configuration = try ADARConfiguration(
            rho: 0.3, sigma: 0.2, fallback: .hardest, augmentationWeight: 0.8, gradientFlow: .through, l2: 0.01)
        let synthesizer = ADARSynthesizer(schedule: try NoiseSchedule(.defaultCosine, steps: 1000), configuration: configuration)
        let synthesis = SynthesisBuffers(), losses = LossBuffers()
        try synthesizer.synthesize(input, noise: .explicit(epsilon), into: synthesis, threads: 1)
        try synthesizer.loss(input, synthesis: synthesis, into: losses, threads: 1)

        var statuses = Set<RowStatus>()
        for b in 0..<rows {
            let user = Array(input.users[b * d ..< (b + 1) * d]), positive = Array(input.positives[b * d ..< (b + 1) * d])
            let negative = Array(input.pool[b * poolSize * d ..< (b * poolSize + 1) * d])
            let norm = user.withUnsafeBufferPointer { Kernels32.dot($0.baseAddress!, $0.baseAddress!, d).squareRoot() }
            let point = synthesizer.transition(s0: synthesis.positiveScores[b], sNeg: synthesis.referenceNegativeScores[b], userNorm: norm)
            statuses.insert(point.status)
            #expect(point.status == synthesis.statuses[b] && point.timestep == Int(synthesis.timesteps[b]), "row \(b)")
            #expect(Self.same(point.aStar, synthesis.aStars[b]) && Self.same(point.retention, synthesis.retentions[b]), "row \(b)")

            let xNeg = Array(synthesis.syntheticNegative(b))
            if !point.status.isFallback {
                let sample = synthesizer.forwardSample(x0: positive, epsilon: Array(epsilon[b * d ..< (b + 1) * d]), timestep: point.timestep)
                #expect(zip(sample, xNeg).allSatisfy(Self.same), "row \(b)")
            }

            let row = synthesizer.lossRow(
                user: user, positive: positive, negative: negative, status: point.status, timestep: point.timestep, syntheticNegative: xNeg)
            #expect(Self.same(row.loss, losses.losses[b]), "row \(b)")
            for (got, batched) in [
                (row.userGradient, losses.userGradients), (row.positiveGradient, losses.positiveGradients),
                (row.negativeGradient, losses.negativeGradients), (row.fallbackGradient, losses.fallbackGradients),
            ] {
                #expect(zip(got, batched[b * d ..< (b + 1) * d]).allSatisfy(Self.same), "row \(b)")
            }
        }
        #expect(statuses.contains(.transition) && statuses.contains(.saturated) && statuses.contains { $0.isFallback }, "\(statuses)")
    }

    @Test("scheduleTables are S1's binary64 tables rounded once")
    func scheduleTablesAreRounded() throws {
        let schedule = try NoiseSchedule(.defaultCosine, steps: 1000)
        let tables = ADARSynthesizer(schedule: schedule, configuration: try ADARConfiguration()).scheduleTables
        #expect(tables.beta == schedule.beta.map(Float.init) && tables.alphaBar == schedule.alphaBar.map(Float.init))
        #expect(tables.sqrtAlphaBar == schedule.sqrtAlphaBar.map(Float.init))
        #expect(tables.sqrtOneMinusAlphaBar == schedule.sqrtOneMinusAlphaBar.map(Float.init))
    }
}
