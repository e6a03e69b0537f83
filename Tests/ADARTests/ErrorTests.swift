import Testing
import ADARCore
import ADARReference
import ADAR

/// S5/E1, one focused test per `ADARError` kind the synthesis path raises:
/// the exact error value, and a `description` that names the row and field.
@Suite("S5/E1 typed errors")
struct ErrorTests {
    /// `B = 3`, `d = 2`, `M = 2`, all finite: each test spoils one thing.
    static let users: [Double] = [1, 0, 0.5, 0.5, -1, 2]
    static let positives: [Double] = [1, 1, 2, 0, 0.3, 0.3]
    static let pool: [Double] = [0, 1, 1, 0, 0.2, 0.1, 0.1, 0.2, 1, 1, -1, 0]
    static let epsilon: [Double] = [0.1, -0.2, 0.3, -0.4, 0.5, -0.6]

    static func batch(
        users: [Double] = users, positives: [Double] = positives, pool: [Double] = pool,
        poolSize: Int = 2, epsilon: [Double] = epsilon
    ) throws(ADARError) -> ADARBatch {
        try ADARBatch(rows: 3, dimension: 2, poolSize: poolSize, users: users, positives: positives,
                      pool: pool, noise: .explicit(epsilon))
    }

    @Test("S5/E1 a NaN or ±∞ names its row, field and component")
    func nonFinite() {
        var pool = Self.pool
        pool[(2 * 2 + 1) * 2 + 1] = -.infinity   // row 2, candidate 1, component 1
        let expected = ADARError.nonFinite(row: 2, field: "pool[1]", component: 1)
        #expect(throws: expected) { try Self.batch(pool: pool) }
        #expect(expected.description.contains("row 2") && expected.description.contains("pool[1]"))
        var epsilon = Self.epsilon
        epsilon[3] = .nan
        #expect(throws: ADARError.nonFinite(row: 1, field: "epsilon", component: 1)) { try Self.batch(epsilon: epsilon) }
    }

    @Test("S5/E1 a wrong array length names the field and both lengths")
    func shapeMismatch() {
        let expected = ADARError.shapeMismatch(field: "positive", expected: 6, actual: 5)
        #expect(throws: expected) { try Self.batch(positives: Array(Self.positives.dropLast())) }
        #expect(expected.description.contains("positive") && expected.description.contains("6") && expected.description.contains("5"))
    }

    @Test("S5/E1 an empty pool is refused")
    func emptyPool() {
        #expect(throws: ADARError.emptyPool) { try Self.batch(pool: [], poolSize: 0) }
        #expect(ADARError.emptyPool.description.contains("pool"))
    }

    @Test("S5/E1 ρ outside (0, 1) names the field rho")
    func invalidConfiguration() {
        for rho in [0, 1, Double.nan, -0.1] {
            let error = #expect(throws: ADARError.self) { try ADARConfiguration(rho: rho) }
            guard case let .invalidConfiguration(field, _)? = error else {
                Issue.record("ρ = \(rho): \(String(describing: error))")
                continue
            }
            #expect(field == "rho")
            #expect(error?.description.contains("rho") == true)
        }
    }

    @Test("S5/E1 an invalid schedule names the parameter")
    func invalidSchedule() {
        let error = #expect(throws: ADARError.self) { try NoiseSchedule(.custom(betas: [0.1, 1.5]), steps: 2) }
        guard case let .invalidSchedule(parameter, _)? = error else {
            Issue.record("\(String(describing: error))")
            return
        }
        #expect(parameter == "beta[2]")
        #expect(error?.description.contains("beta[2]") == true)
    }

    @Test("S5/E1 σ‖e_u‖ overflowing names the row; nothing partial is returned")
    func overflow() throws {
        var users = Self.users
        users[2] = 1e200   // row 1: ‖e_u‖² = 1e400 overflows
        users[3] = 1e200
        let batch = try Self.batch(users: users)
        let schedule = try NoiseSchedule(.defaultCosine, steps: 20)
        let expected = ADARError.overflow(row: 1, field: "noiseScale")
        var outcomes: [RowOutcome]?
        #expect(throws: expected) {
            outcomes = try ReferenceADAR.synthesize(batch, schedule: schedule, configuration: ADARConfiguration())
        }
        #expect(outcomes == nil, "row 0 was valid, but the call must return no rows at all")
        #expect(expected.description.contains("row 1") && expected.description.contains("noiseScale"))
    }

    @Test("S5/E1 with several bad rows the first row wins, and the optimised path reports the same error")
    func firstOffendingRowWins() throws {
        var users = Self.users, pool = Self.pool, epsilon = Self.epsilon
        users[2 * 2] = .nan          // row 2, user
        pool[(1 * 2 + 1) * 2] = .nan // row 1, candidate 1
        epsilon[1 * 2 + 1] = .nan    // row 1, epsilon: after the pool in the row's order
        epsilon[0] = .infinity       // row 0, epsilon: the first offending row
        let expected = ADARError.nonFinite(row: 0, field: "epsilon", component: 0)
        #expect(throws: expected) { try Self.batch(users: users, pool: pool, epsilon: epsilon) }
        epsilon[0] = 0
        let inRowOne = ADARError.nonFinite(row: 1, field: "pool[1]", component: 0)
        #expect(throws: inRowOne) { try Self.batch(users: users, pool: pool, epsilon: epsilon) }

        let schedule = try NoiseSchedule(.defaultCosine, steps: 100)
        let synthesizer = ADARSynthesizer(schedule: schedule, configuration: try ADARConfiguration())
        let rows = try DenseRows32(rows: 3, dimension: 2, poolSize: 2, users: users.map(Float.init),
                                   positives: Self.positives.map(Float.init), pool: pool.map(Float.init))
        for threads in [1, 2] {
            let output = SynthesisBuffers()
            #expect(throws: inRowOne) {
                try synthesizer.synthesize(rows, noise: .explicit(epsilon.map(Float.init)), into: output, threads: threads)
            }
            #expect(output.rows == 0, "nothing partial is exposed")
        }
    }
}
