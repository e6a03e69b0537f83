import Foundation
import Testing
import ADARCore
import ADAR

/// The optimised binary32 τ (spec S9; module `ADAR`, Sources/ADAR/Tau):
/// initialisation and `PE` against S9's formulas written out here, the
/// training draws, bit-identity for any thread count, the `denoised`
/// generator's bookkeeping and its errors. Equivalence with the binary64
/// reference: TauEquivalenceTests.
@Suite("S9 optimised τ")
struct TauOptimisedTests {
    static let schedule = try! NoiseSchedule(.defaultCosine, steps: 100)

    /// Rows of Gaussian values at `scale` (fixed seed).
    static func gaussian(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        let noise = GaussianNoise(seed: seed, stream: 99)
        return (0..<count).map { scale * Float(noise.normal(row: UInt64($0 / 4), component: $0 % 4)) }
    }

    static func denseRows(rows: Int, d: Int, poolSize: Int, seed: UInt64) throws -> DenseRows32 {
        // Positives near the user so that most rows reach a transition.
        let users = gaussian(rows * d, seed: seed, scale: 0.5)
        let positives = zip(users, gaussian(rows * d, seed: seed + 1, scale: 0.2)).map { $0 + $1 }
        return try DenseRows32(
            rows: rows, dimension: d, poolSize: poolSize, users: users, positives: positives,
            pool: gaussian(rows * poolSize * d, seed: seed + 2, scale: 0.3))
    }

    @Test("S9 initialisation: Xavier-uniform entries from Philox on (⌊k/4⌋, ℓ, 0, 2³² − 2), biases 0")
    func initialisation() throws {
        let d = 5, seed: UInt64 = 0x1234_5678_9ABC_DEF0
        let network = try TauNetwork32(dimension: d, steps: 10, seed: seed)
        let key = SIMD2(UInt32(0x9ABC_DEF0), UInt32(0x1234_5678))
        func expected(layer: UInt32, k: Int, fanIn: Int, fanOut: Int) -> Float {
            let w = Philox4x32.block(counter: SIMD4(UInt32(k / 4), layer, 0, 0xFFFF_FFFE), key: key)[k % 4]
            let u = (Double(w) + 0.5) * 0x1p-32
            return Float((6 / Double(fanIn + fanOut)).squareRoot() * (2 * u - 1))
        }
        let p = network.parameters
        #expect(p.count == 16 * d * d + 5 * d)
        for k in 0 ..< 12 * d * d { #expect(p[k] == expected(layer: 1, k: k, fanIn: 3 * d, fanOut: 4 * d), "W₁ entry \(k)") }
        #expect(p[12 * d * d ..< 12 * d * d + 4 * d].allSatisfy { $0 == 0 }, "b₁")
        for k in 0 ..< 4 * d * d {
            #expect(p[12 * d * d + 4 * d + k] == expected(layer: 2, k: k, fanIn: 4 * d, fanOut: d), "W₂ entry \(k)")
        }
        #expect(p[(16 * d * d + 4 * d)...].allSatisfy { $0 == 0 }, "b₂")
        // A different seed gives different weights (the key is used).
        #expect(try TauNetwork32(dimension: d, steps: 10, seed: seed + 1).parameters != p)
    }

    @Test("S9 PE(t): sin for even k, cos for odd k of t·exp(−(k − k mod 2)/d·ln 10⁴), binary64 rounded once")
    func positionalEncoding() throws {
        let d = 7, steps = 12
        let network = try TauNetwork32(dimension: d, steps: steps, seed: 1)
        for t in 0...steps {
            let row = Array(network.positionalEncoding(at: t))
            for k in 0..<d {
                let angle = Double(t) / pow(10_000, Double(2 * (k / 2)) / Double(d))
                let value = k % 2 == 0 ? sin(angle) : cos(angle)
                // pow and exp·log differ in the last bits of binary64 only: one binary32 ulp at most.
                #expect(abs(Double(row[k]) - value) <= Double(Float(value).ulp), "t \(t) k \(k)")
            }
        }
        #expect(network.positionalEncoding(at: 0)[1] == 1 && network.positionalEncoding(at: 0)[0] == 0)
    }

    @Test("S9 τ's shape is checked: d = 0, 3d² > 2³², a wrong parameter count and a non-finite parameter are refused with the field named")
    func dimensionLimits() throws {
        #expect(throws: ADARError.shapeMismatch(field: "dimension", expected: 1, actual: 0)) {
            try TauNetwork32(dimension: 0, steps: 10, seed: 1)
        }
        #expect(throws: ADARError.limitExceeded(field: "tau.dimension", limit: TauNetwork32.maxDimension, actual: 40_000)) {
            try TauNetwork32(dimension: 40_000, steps: 10, seed: 1)
        }
        // Given parameters: 16d² + 5d of them (74 for d = 2), all finite.
        #expect(throws: ADARError.shapeMismatch(field: "parameters", expected: 74, actual: 73)) {
            try TauNetwork32(dimension: 2, steps: 10, parameters: [Float](repeating: 0.5, count: 73))
        }
        var parameters = [Float](repeating: 0.5, count: 74)
        parameters[5] = .infinity
        #expect(throws: ADARError.nonFinite(row: 0, field: "parameters", component: 5)) {
            try TauNetwork32(dimension: 2, steps: 10, parameters: parameters)
        }
        parameters[5] = 0.25
        #expect(try TauNetwork32(dimension: 2, steps: 10, parameters: parameters).parameters == parameters)
    }

    @Test("S9 training draws: t′ = 1 + ⌊w₀·T/2³²⌋ with w₀ word 0 of Philox on (2³² − 1, low32(b), high32(b), 2³¹ + E)")
    func trainingTimestep() {
        let seed: UInt64 = 0xDEAD_BEEF_0000_0001
        var seen = Set<Int>()
        for (row, epoch, steps) in [(UInt64(0), 1, 1000), (UInt64(1) << 33 | 5, 3, 1000), (42, 7, 1), (7, 2, 100_000)] {
            let w = Philox4x32.block(
                counter: SIMD4(0xFFFF_FFFF, UInt32(truncatingIfNeeded: row), UInt32(row >> 32), 0x8000_0000 + UInt32(epoch)),
                key: SIMD2(0x0000_0001, 0xDEAD_BEEF)).x
            let expected = 1 + Int(Double(w) * Double(steps) / 0x1p32)
            let t = TauTrainer32.trainingTimestep(seed: seed, epoch: epoch, row: row, steps: steps)
            #expect(t == expected && (1...steps).contains(t), "row \(row) epoch \(epoch) T \(steps)")
            seen.insert(t)
        }
        #expect(seen.count >= 3)
    }

    @Test("S9 τ's forward and loss gradient are bit-identical for 1 thread and many, batched and row by row")
    func threadInvariance() throws {
        let d = 12, rows = 37
        let network = try TauNetwork32(dimension: d, steps: 100, seed: 5)
        let xt = Self.gaussian(rows * d, seed: 10), users = Self.gaussian(rows * d, seed: 11)
        let timesteps = (0..<rows).map { 1 + $0 * 7 % 100 }, targets = Self.gaussian(rows * d, seed: 12)
        let one = network.forward(xt: xt, timesteps: timesteps, users: users, threads: 1)
        let many = network.forward(xt: xt, timesteps: timesteps, users: users, threads: 7)
        #expect(one.map(\.bitPattern) == many.map(\.bitPattern))
        for b in [0, 1, 36] {
            let single = network.forward(
                xt: Array(xt[b * d ..< (b + 1) * d]), timesteps: [timesteps[b]], users: Array(users[b * d ..< (b + 1) * d]))
            #expect(single.map(\.bitPattern) == one[b * d ..< (b + 1) * d].map(\.bitPattern), "row \(b)")
        }
        let g1 = network.lossAndGradient(xt: xt, timesteps: timesteps, users: users, targets: targets, threads: 1)
        let g7 = network.lossAndGradient(xt: xt, timesteps: timesteps, users: users, targets: targets, threads: 7)
        #expect(g1.loss.bitPattern == g7.loss.bitPattern)
        #expect(g1.gradient.map(\.bitPattern) == g7.gradient.map(\.bitPattern))
        #expect(g1.gradient.contains { $0 != 0 })
    }

    @Test("S9 training: Adam steps are bit-identical for any thread count, count steps, and lower L_τ on a fixed batch")
    func training() throws {
        let d = 8, rows = 64
        let batch = try Self.denseRows(rows: rows, d: d, poolSize: 1, seed: 20)
        let synthesizer = ADARSynthesizer(schedule: Self.schedule, configuration: try ADARConfiguration(sigma: 0.5))
        let network = try TauNetwork32(dimension: d, steps: 100, seed: 3)
        let serial = try TauTrainer32(network: network, learningRate: 3e-3)
        let parallel = try TauTrainer32(network: network, learningRate: 3e-3)
        var losses: [Float] = []
        for _ in 0..<40 {
            // The same rows and epoch every step: the draws repeat, so L_τ must fall.
            losses.append(try serial.step(batch, synthesizer: synthesizer, seed: 9, epoch: 1, rowOffset: 100, threads: 1))
            try parallel.step(batch, synthesizer: synthesizer, seed: 9, epoch: 1, rowOffset: 100, threads: 5)
        }
        #expect(serial.stepCount == 40)
        #expect(serial.network.parameters.map(\.bitPattern) == parallel.network.parameters.map(\.bitPattern))
        #expect(losses.last! < 0.9 * losses.first!, "L_τ \(losses.first!) → \(losses.last!)")
        #expect(serial.network.parameters != network.parameters)
    }

    @Test("S9 training refuses a τ of another dimension or schedule, epoch 0 and a non-finite user")
    func trainingErrors() throws {
        let batch = try Self.denseRows(rows: 3, d: 4, poolSize: 1, seed: 1)
        let synthesizer = ADARSynthesizer(schedule: Self.schedule, configuration: try ADARConfiguration())
        let trainer = try TauTrainer32(network: try TauNetwork32(dimension: 4, steps: 100, seed: 1), learningRate: 1e-3)
        #expect(throws: ADARError.shapeMismatch(field: "dimension", expected: 5, actual: 4)) {
            try TauTrainer32(network: try TauNetwork32(dimension: 5, steps: 100, seed: 1), learningRate: 1e-3)
                .step(batch, synthesizer: synthesizer, seed: 1, epoch: 1, rowOffset: 0)
        }
        #expect(throws: ADARError.shapeMismatch(field: "steps", expected: 50, actual: 100)) {
            try TauTrainer32(network: try TauNetwork32(dimension: 4, steps: 50, seed: 1), learningRate: 1e-3)
                .step(batch, synthesizer: synthesizer, seed: 1, epoch: 1, rowOffset: 0)
        }
        #expect(throws: ADARError.self) { try trainer.step(batch, synthesizer: synthesizer, seed: 1, epoch: 0, rowOffset: 0) }
        var users = batch.users
        users[2 * 4 + 3] = .nan
        let bad = try DenseRows32(rows: 3, dimension: 4, poolSize: 1, users: users, positives: batch.positives, pool: batch.pool)
        #expect(throws: ADARError.nonFinite(row: 2, field: "user", component: 3)) {
            try trainer.step(bad, synthesizer: synthesizer, seed: 1, epoch: 1, rowOffset: 0)
        }
        #expect(trainer.stepCount == 0)
        #expect(throws: ADARError.self) { try TauTrainer32(network: try TauNetwork32(dimension: 4, steps: 100, seed: 1), learningRate: 0) }
    }

    @Test("S9 denoised: S5/S6 outputs as forward, x⁻ = x_0 + σr_t(ε − ε̂) with its score, r_max fallbacks flagged, any thread count")
    func denoisedSynthesis() throws {
        let d = 16, rows = 40, sigma = 0.7
        let batch = try Self.denseRows(rows: rows, d: d, poolSize: 3, seed: 30)
        let synthesizer = ADARSynthesizer(schedule: Self.schedule, configuration: try ADARConfiguration(sigma: sigma))
        let network = try TauNetwork32(dimension: d, steps: 100, seed: 4)
        let noise = Noise32.counter(seed: 77, stream: 3, rowOffset: 500)
        let forward = SynthesisBuffers(), denoised = SynthesisBuffers(), parallel = SynthesisBuffers()
        try synthesizer.synthesize(batch, noise: noise, into: forward, threads: 1)
        let ratios = ADARSynthesizer.noiseRatios(Self.schedule)
        // r_max between the timesteps in use, so that both kinds of row occur.
        let used = (0..<rows).filter { !forward.statuses[$0].isFallback }.map { Int(forward.timesteps[$0]) }.sorted()
        let rMax = ratios[used[used.count / 2]]
        try synthesizer.synthesize(batch, noise: noise, generator: .denoised(network, rMax: rMax), into: denoised, threads: 1)
        try synthesizer.synthesize(batch, noise: noise, generator: .denoised(network, rMax: rMax), into: parallel, threads: 6)
        #expect(Array(denoised.syntheticNegatives).map(\.bitPattern) == Array(parallel.syntheticNegatives).map(\.bitPattern))
        #expect(Array(denoised.syntheticScores).map(\.bitPattern) == Array(parallel.syntheticScores).map(\.bitPattern))
        #expect(Array(forward.forwardFallbacks) == Array(repeating: false, count: rows))
        var denoisedRows = 0, guarded = 0
        for b in 0..<rows {
            #expect(denoised.statuses[b] == forward.statuses[b] && denoised.timesteps[b] == forward.timesteps[b])
            #expect(denoised.aStars[b].bitPattern == forward.aStars[b].bitPattern)
            #expect(denoised.retentions[b].bitPattern == forward.retentions[b].bitPattern)
            let t = Int(forward.timesteps[b])
            let expectGuard = !forward.statuses[b].isFallback && ratios[t] > rMax
            #expect(denoised.forwardFallbacks[b] == expectGuard, "row \(b)")
            if forward.statuses[b].isFallback || expectGuard {
                #expect(Array(denoised.syntheticNegative(b)) == Array(forward.syntheticNegative(b)), "row \(b) unchanged")
                guarded += expectGuard ? 1 : 0
                continue
            }
            denoisedRows += 1
            // S9 written out in binary64 from the binary32 pieces: ε̂ from τ's
            // batched forward on x_t (the forward generator's x⁻).
            let x0 = batch.positives[b * d ..< (b + 1) * d], user = batch.users[b * d ..< (b + 1) * d]
            let xt = Array(forward.syntheticNegative(b))
            let epsilonHat = network.forward(xt: xt, timesteps: [t], users: Array(user))
            let epsilon = GaussianNoise32(seed: 77, stream: 3)
            let r = Double(Float(ratios[t])) * Double(Float(sigma))
            var score = 0.0
            for k in 0..<d {
                let e = Double(epsilon.normal(row: 500 + UInt64(b), component: k))
                let expected = Double(x0[x0.startIndex + k]) + r * (e - Double(epsilonHat[k]))
                let got = Double(denoised.syntheticNegative(b)[k])
                #expect(abs(got - expected) <= 1e-5 * (abs(expected) + 1), "row \(b) k \(k): \(got) vs \(expected)")
                score += Double(user[user.startIndex + k]) * got
            }
            #expect(abs(Double(denoised.syntheticScores[b]) - score) <= 1e-5 * (abs(score) + 1))
        }
        #expect(denoised.forwardFallbackCount == guarded)
        #expect(denoisedRows > 0 && guarded > 0, "\(denoisedRows) denoised rows, \(guarded) guarded")
    }

    @Test("S9 denoised refuses a τ of another dimension or schedule and a negative r_max, exposing no rows")
    func denoisedErrors() throws {
        let batch = try Self.denseRows(rows: 2, d: 4, poolSize: 1, seed: 1)
        let synthesizer = ADARSynthesizer(schedule: Self.schedule, configuration: try ADARConfiguration())
        let output = SynthesisBuffers()
        try synthesizer.synthesize(batch, noise: .counter(seed: 1, stream: 0, rowOffset: 0), into: output)
        #expect(output.rows == 2)
        let cases: [(SynthesisGenerator32, ADARError)] = [
            (.denoised(try TauNetwork32(dimension: 5, steps: 100, seed: 1)), .shapeMismatch(field: "tau.dimension", expected: 4, actual: 5)),
            (.denoised(try TauNetwork32(dimension: 4, steps: 99, seed: 1)), .shapeMismatch(field: "tau.steps", expected: 100, actual: 99)),
            (.denoised(try TauNetwork32(dimension: 4, steps: 100, seed: 1), rMax: -1),
             .invalidConfiguration(field: "rMax", reason: "r_max = -1.0 must be ≥ 0 (S9; default 10)")),
        ]
        for (generator, error) in cases {
            #expect(throws: error) {
                try synthesizer.synthesize(batch, noise: .counter(seed: 1, stream: 0, rowOffset: 0), generator: generator, into: output)
            }
            #expect(output.rows == 0)
        }
    }
}
