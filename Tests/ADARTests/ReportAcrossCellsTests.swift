import Foundation
import Testing
import ADARCore
import ADAREvaluation
import ADARReport
import ADARStore

/// `adar report`'s "Across cells" (docs/REPORT.md): S9's calibration of `forward` pooled over the final runs
/// of every cell, with its binomial tail, and each cell's run time. Stores are planted by hand; the
/// binomial tails marked "scipy" were computed once with scipy 1.17.1 (`scipy.stats.binom.sf(k - 1, n, p)`)
/// and pasted here.
@Suite("Report across cells")
struct ReportAcrossCellsTests {
    typealias Planted = ReportCalibrationTests.Planted

    static func calibration(z: Double) -> Planted {
        Planted(z: z, share: 0.5, retention: 0.5, transition: 0.6, alreadyNegative: 0.1)
    }

    /// One final run per entry, chosen epoch 10; nil = the chosen epoch recorded no calibration. With `decoy`,
    /// epoch 5 records Z = 9.99, far outside ±1.96, at an epoch no run chose.
    static func plant(_ store: RunStore, cell: Cell, sampler: String, configuration: [String: ConfigurationValue] = [:],
                      z: [Double?], decoy: Bool = true, seconds: Double = 1) throws {
        for (pair, z) in zip(ReportTests.pairs, z) {
            let spec = ReportTests.spec(.final, sampler, ["lr": 0.001].merging(configuration) { $1 }, split: pair.split,
                                        model: pair.model, dataset: cell.dataset, backbone: cell.backbone, protocol: cell.protocol)
            let id = try ReportTests.started(store.begin(spec, codeVersion: "test"))
            try store.recordEvaluation(id, epoch: 5, split: .validation, metrics: ["ndcg@20": 0.30],
                                       extra: decoy ? Self.calibration(z: 9.99).extra : ["meanLoss": 0.5])
            try store.recordEvaluation(id, epoch: 10, split: .validation, metrics: ["ndcg@20": 0.31],
                                       extra: z.map { Self.calibration(z: $0).extra } ?? ["meanLoss": 0.5])
            try store.finish(id, bestEpoch: 10, testMetrics: ["ndcg@20": 0.31, "recall@20": 0.2], seconds: seconds)
        }
    }

    static let first = Cell(dataset: "ml-100k", backbone: "mf", protocol: "full")
    static let second = Cell(dataset: "ml-1m", backbone: "mf", protocol: "full")

    /// Counted: adar-forward (2.50, −0.30), adar-w0 (−1.97; its second run recorded no Z) and adar (1.95, 0.10):
    /// 2 of 5 outside ±1.959964. Not counted: `denoised` (Z of 150) and an `adar` row with no calibration.
    static func store() throws -> RunStore {
        let store = try RunStore.inMemory()
        try plant(store, cell: first, sampler: "uniform", z: [nil, nil])
        try plant(store, cell: first, sampler: "adar-forward", z: [2.50, -0.30])
        try plant(store, cell: first, sampler: "adar-denoised", configuration: ["generator": "denoised"], z: [150.0, -98.0])
        try plant(store, cell: first, sampler: "adar-w0", z: [-1.97, nil])
        try plant(store, cell: second, sampler: "uniform", z: [nil, nil, nil])
        try plant(store, cell: second, sampler: "adar", configuration: ["generator": "forward"], z: [1.95, 0.10])
        try plant(store, cell: second, sampler: "adar-old", z: [nil, nil, nil], decoy: false)
        return store
    }

    @Test("forward's Z is pooled over cells at the chosen epochs: |Z| > Φ⁻¹(0.975) counted, denoised left out, the tail from scipy")
    func pooledCalibration() throws {
        let report = try Report(store: Self.store(), filter: .init(), commandLine: "adar report")
        let readme = report.readmeSection(linkPrefix: "results/report/")
        let expected = "it does so in 2 (ml-100k · mf adar-forward 2.50; ml-100k · mf adar-w0 -1.97) of 5: "
            + "P(2 or more of 5) = 0.023 (binomial upper tail, GSL)."
        #expect(readme.contains("### Across cells"))
        #expect(readme.contains(expected), "\(readme)")
        #expect(readme.contains("Not counted: ml-1m · mf adar-old (3 final runs, no calibration recorded); "
            + "1 run of counted rows whose chosen epoch recorded no Z."))
        let across = try #require(readme.components(separatedBy: "### Across cells").last)
        #expect(!across.contains("150.00") && !across.contains("9.99"), "denoised and unchosen epochs stay out")
        let markdown = try #require(report.files(markdownOnly: true).last)
        #expect(markdown.name == "report.md" && markdown.contents.contains("\n## Across cells\n"))
        #expect(PooledForwardCalibration.bound == 1.959963984540054, "scipy norm.ppf(0.975); StandardNormal.quantile is correctly rounded here")
    }

    @Test("P(X ≥ k) for X ~ Binomial(n, p) agrees with scipy within 1e-12 relative")
    func binomialTail() {
        let scipy: [(k: Int, n: Int, p: Double, tail: Double)] = [
            (4, 65, 0.05, 0.40998748202178015), (0, 10, 0.05, 1), (1, 10, 0.05, 0.4012630607616211),
            (3, 3, 0.05, 0.00012500000000000003), (2, 4, 0.05, 0.014018749999999998),
            (2, 5, 0.05, 0.022592499999999995), (3, 5, 0.05, 0.001158125),
        ]
        for c in scipy {
            let tail = BinomialTail.atLeast(c.k, of: c.n, probability: c.p)
            #expect(abs(tail - c.tail) <= 1e-12 * c.tail, "P(X ≥ \(c.k)), n = \(c.n): \(tail) against scipy's \(c.tail)")
        }
    }

    @Test("Each cell's run time sums the store's seconds of its finished runs, tune and final, in whole minutes")
    func runTime() throws {
        let store = try Self.store()
        try Self.plant(store, cell: Self.second, sampler: "dns", z: [nil, nil], seconds: 6_400)
        let tune = try ReportTests.started(store.begin(
            ReportTests.spec(.tune, "dns", ["lr": 0.003], split: 2026, model: 1, dataset: "ml-1m", backbone: "mf"), codeVersion: "test"))
        try store.recordEvaluation(tune, epoch: 5, split: .validation, metrics: ["ndcg@20": 0.3])
        try store.finish(tune, bestEpoch: 5, testMetrics: [:], seconds: 30)
        // A run still marked running (cut off, to be redone) costs nothing yet.
        _ = try store.begin(ReportTests.spec(.final, "dns", ["lr": 0.001], split: 2027, model: 1, dataset: "ml-1m", backbone: "mf"),
                            codeVersion: "test")
        let report = try Report(store: store, filter: .init(), commandLine: "adar report")
        let readme = report.readmeSection(linkPrefix: "")
        #expect(readme.contains("| ml-100k · mf · protocol full | 0 | 8 | < 1 min |"), "\(readme)")
        // 2 × 6,400 + 30 + 8 × 1 seconds = 12,838 s, 213.97 min: 214.
        #expect(readme.contains("| ml-1m · mf · protocol full | 1 | 10 | 3 h 34 min |"), "\(readme)")
    }
}
