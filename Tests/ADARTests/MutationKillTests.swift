import Testing
import ADARCore
@testable import ADAR

/// Checks added because `make mutation` (docs/Mutation.md) found mutants the other suites let
/// through. Each names the mutant it kills.
@Suite("Mutation kills: checks for mutants the other suites missed")
struct MutationKillTests {
    /// Counters and keys with every bit pattern class: zeros, all ones, high bits only, mixed.
    static let philoxInputs: [(SIMD4<UInt32>, SIMD4<UInt32>, SIMD4<UInt32>, SIMD4<UInt32>, SIMD2<UInt32>)] = [
        (.zero, .zero, .zero, .zero, .zero),
        (SIMD4(repeating: .max), SIMD4(repeating: .max), SIMD4(repeating: .max), SIMD4(repeating: .max), SIMD2(repeating: .max)),
        (SIMD4(0x8000_0000, 1, 0xFFFF_FFFF, 0x243F_6A88), SIMD4(0x85A3_08D3, 0, 7, 0x8000_0001),
         SIMD4(0x1319_8A2E, 0xFFFF_FFFE, 3, 0x0370_7344), SIMD4(0xA409_3822, 9, 0x8000_0000, 42),
         SIMD2(0x299F_31D0, 0xFFFF_FFFF)),
    ]

    /// S8: Philox4x32-10 lane by lane. `philox4Portable` is the path every machine but x86-64
    /// runs; on x86-64 nothing else calls it, so without this check any change to it (a mask of
    /// `0xFFFF_FFFE` instead of `0xFFFF_FFFF`, a wrong multiplier) passes the suite here.
    @Test("S8: philox4Portable and philox4 give Philox4x32.block's words for each of four lanes")
    func portablePhiloxMatchesBlock() {
        for (c0, c1, c2, c3, key) in Self.philoxInputs {
            let portable = philox4Portable(c0, c1, c2, c3, key: key)
            let native = philox4(c0, c1, c2, c3, key: key)
            for lane in 0..<4 {
                let expected = Philox4x32.block(counter: SIMD4(c0[lane], c1[lane], c2[lane], c3[lane]), key: key)
                let got = SIMD4(portable.0[lane], portable.1[lane], portable.2[lane], portable.3[lane])
                let gotNative = SIMD4(native.0[lane], native.1[lane], native.2[lane], native.3[lane])
                #expect(got == expected, "philox4Portable lane \(lane) of counter words \((c0, c1, c2, c3)), key \(key)")
                #expect(gotNative == expected, "philox4 lane \(lane) of counter words \((c0, c1, c2, c3)), key \(key)")
            }
        }
    }

    /// S5/E1: a shape error names the field, the smallest value accepted and the value given.
    /// Kills `expected: 1 → 0` in `DenseRows32.init`'s dimension guard, `rows * width → rows / width`
    /// in its length check, and the guards' boundaries (`rows >= 0` → `rows > 0`: an empty batch is valid).
    @Test("S5/E1: DenseRows32 refuses d = 0, rows < 0 and wrong lengths with the exact shape error; 0 rows is a batch")
    func denseRowsShapeErrors() throws {
        #expect(throws: ADARError.shapeMismatch(field: "dimension", expected: 1, actual: 0)) {
            try DenseRows32(rows: 1, dimension: 0, poolSize: 1, users: [], positives: [], pool: [])
        }
        #expect(throws: ADARError.shapeMismatch(field: "rows", expected: 0, actual: -1)) {
            try DenseRows32(rows: -1, dimension: 1, poolSize: 1, users: [], positives: [], pool: [])
        }
        #expect(throws: ADARError.emptyPool) {
            try DenseRows32(rows: 1, dimension: 1, poolSize: 0, users: [0], positives: [0], pool: [])
        }
        let zeros = { (count: Int) in [Float](repeating: 0, count: count) }
        #expect(throws: ADARError.shapeMismatch(field: "user", expected: 6, actual: 5)) {
            try DenseRows32(rows: 2, dimension: 3, poolSize: 2, users: zeros(5), positives: zeros(6), pool: zeros(12))
        }
        #expect(throws: ADARError.shapeMismatch(field: "pool", expected: 12, actual: 11)) {
            try DenseRows32(rows: 2, dimension: 3, poolSize: 2, users: zeros(6), positives: zeros(6), pool: zeros(11))
        }
        let empty = try DenseRows32(rows: 0, dimension: 1, poolSize: 1, users: [], positives: [], pool: [])
        #expect(empty.rows == 0)
        let smallest = try DenseRows32(rows: 1, dimension: 1, poolSize: 1, users: [1], positives: [2], pool: [3])
        #expect(smallest.pool == [3])
    }

    /// S5/E1: the first offending row wins on the optimised path too, when that row's error is in ε.
    /// ε's error must carry its row (`i / d`), not a scaled index: kills `i / d → i * d`, which
    /// made the user error of row 2 win over ε's error in row 1.
    @Test("S5/E1: ε's error in row 1 wins over a user's in row 2 on the optimised path, any thread count")
    func epsilonErrorKeepsItsRow() throws {
        var users: [Float] = [1, 0, 0.5, 0.5, -1, 2], epsilon: [Float] = [0.1, -0.2, 0.3, -0.4, 0.5, -0.6]
        users[2 * 2] = .nan           // row 2, the user
        epsilon[1 * 2 + 1] = .nan     // row 1, ε component 1
        let rows = try DenseRows32(rows: 3, dimension: 2, poolSize: 2, users: users,
                                   positives: [1, 1, 2, 0, 0.3, 0.3], pool: [0, 1, 1, 0, 0.2, 0.1, 0.1, 0.2, 1, 1, -1, 0])
        let synthesizer = ADARSynthesizer(schedule: try NoiseSchedule(.defaultCosine, steps: 100),
                                          configuration: try ADARConfiguration())
        for threads in [1, 2] {
            #expect(throws: ADARError.nonFinite(row: 1, field: "epsilon", component: 1)) {
                try synthesizer.synthesize(rows, noise: .explicit(epsilon), into: SynthesisBuffers(), threads: threads)
            }
        }
    }

    /// S5/E1: an item index is checked against the item table's row count `I = itemTable.count / d`.
    /// Kills `itemTable.count / dimension → itemTable.count * dimension` in `IndexedRows32.init`, which
    /// accepts indices up to `I·d²` and then reads past the table.
    @Test("S5/E1: IndexedRows32 refuses a positive or candidate index equal to the item count, naming row, field and count")
    func indexedRowsItemRange() throws {
        let d = 2
        func rows(positive: Int32, pool: [Int32]) throws(ADARError) -> IndexedRows32 {
            try IndexedRows32(dimension: d, poolSize: 2, userTable: [Float](repeating: 0.5, count: 2 * d),
                              itemTable: [Float](repeating: 0.25, count: 3 * d), users: [1], positives: [positive], pool: pool)
        }
        _ = try rows(positive: 2, pool: [0, 2])
        #expect(throws: ADARError.indexOutOfRange(row: 0, field: "positive", index: 3, count: 3)) { try rows(positive: 3, pool: [0, 1]) }
        #expect(throws: ADARError.indexOutOfRange(row: 0, field: "pool[1]", index: 3, count: 3)) { try rows(positive: 0, pool: [1, 3]) }
    }

    /// S5/E1: a table whose length is not a multiple of `d` is refused with the nearest whole-row length as
    /// `expected` (`count / d · d`). Kills `count / dimension * dimension → count / dimension / dimension` in
    /// `IndexedRows32.init`'s table guards, which name a wrong expected length once `d ≥ 2`.
    @Test("S5/E1: IndexedRows32 refuses user and item tables that are not whole rows, naming the whole-row length")
    func indexedRowsTableShape() {
        let d = 3
        func rows(userCount: Int, itemCount: Int) throws(ADARError) -> IndexedRows32 {
            try IndexedRows32(dimension: d, poolSize: 1, userTable: [Float](repeating: 0.5, count: userCount),
                              itemTable: [Float](repeating: 0.25, count: itemCount), users: [0], positives: [0], pool: [1])
        }
        #expect(throws: ADARError.shapeMismatch(field: "userTable", expected: 6, actual: 7)) { try rows(userCount: 7, itemCount: 6) }
        #expect(throws: ADARError.shapeMismatch(field: "itemTable", expected: 9, actual: 11)) { try rows(userCount: 6, itemCount: 11) }
    }
}
