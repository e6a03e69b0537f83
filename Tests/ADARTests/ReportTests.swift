import Foundation
import Testing
import ADAREvaluation
import ADARReport
import ADARCore
import ADARStore
#if canImport(FoundationXML)
import FoundationXML
#endif

/// `adar report` (docs/CLI.md "Report"): the final table, the Holm family, the best baseline chosen on
/// validation, failed runs kept out, n/a for undefined statistics, the README markers, determinism, and
/// the command end to end. Stores are filled through RunStore's API with planted numbers.
///
/// Expected values marked "scipy" were computed once, independently of this code, with scipy 1.17.1
/// (`scipy.stats.ttest_rel`, `.confidence_interval(0.95)`), numpy (`std(ddof=1)`), a hand-written Holm
/// step-down in Python, and Python's `%` formatting for the expected table text, and pasted here.
@Suite("Report")
struct ReportTests {
    // MARK: Planted stores

    /// The final runs' pairs, in pair order.
    static let pairs: [(split: UInt64, model: UInt64)] = [(2026, 1), (2026, 2), (2026, 3), (2027, 1), (2027, 2), (2027, 3)]

    struct Planted {
        var name: String
        var configuration: [String: ConfigurationValue]
        /// Other configurations tried in tuning (the chosen one is always tuned too).
        var otherTuned: [[String: ConfigurationValue]] = []
        /// Tune configurations that failed.
        var failedTuned: [[String: ConfigurationValue]] = []
        /// Per pair: test NDCG@20, test Recall@20, best validation NDCG@20; nil = that final run failed.
        var runs: [(ndcg: Double, recall: Double, validation: Double)?]
    }

    static let fixed: [String: ConfigurationValue] = ["dim": 64, "batch": 2048]

    static func configuration(_ values: [String: ConfigurationValue]) -> RunConfiguration {
        try! RunConfiguration(values.merging(fixed) { a, _ in a })
    }

    static func spec(_ phase: RunPhase, _ sampler: String, _ values: [String: ConfigurationValue], split: UInt64, model: UInt64,
                     dataset: String = "ml-100k", backbone: String = "mf", protocol: String = "full") -> RunSpec {
        try! RunSpec(phase: phase, dataset: dataset, backbone: backbone, sampler: sampler, configuration: configuration(values),
                     splitSeed: split, modelSeed: model, protocol: `protocol`)
    }

    static func started(_ start: RunStart) throws -> RunID {
        guard case let .started(id) = start else { throw ReportError.statistics("expected a new run, got \(start)") }
        return id
    }

    static func fill(_ store: RunStore, _ samplers: [Planted], dataset: String = "ml-100k", backbone: String = "mf",
                     protocol: String = "full") throws {
        for sampler in samplers {
            for values in [sampler.configuration] + sampler.otherTuned {
                let id = try started(store.begin(spec(.tune, sampler.name, values, split: 2026, model: 1, dataset: dataset, backbone: backbone, protocol: `protocol`), codeVersion: "test"))
                try store.recordEvaluation(id, epoch: 5, split: .validation, metrics: ["ndcg@20": 0.3, "recall@20": 0.2])
                try store.finish(id, bestEpoch: 5, testMetrics: [:], seconds: 1)
            }
            for values in sampler.failedTuned {
                let id = try started(store.begin(spec(.tune, sampler.name, values, split: 2026, model: 1, dataset: dataset, backbone: backbone, protocol: `protocol`), codeVersion: "test"))
                try store.fail(id, reason: "diverged: validation NDCG@20 is NaN at epoch 15")
            }
            for (pair, run) in zip(pairs, sampler.runs) {
                let id = try started(store.begin(spec(.final, sampler.name, sampler.configuration, split: pair.split, model: pair.model, dataset: dataset, backbone: backbone, protocol: `protocol`), codeVersion: "test"))
                guard let run else {
                    try store.recordEvaluation(id, epoch: 5, split: .validation, metrics: ["ndcg@20": 0.1])
                    try store.fail(id, reason: "diverged: loss is NaN at epoch 7")
                    continue
                }
                for (epoch, value) in [(5, run.validation - 0.02), (10, run.validation), (15, run.validation - 0.005)] {
                    try store.recordEvaluation(id, epoch: epoch, split: .validation, metrics: ["ndcg@20": value, "recall@20": value / 2])
                }
                try store.recordEvaluation(id, epoch: 10, split: .test, metrics: ["ndcg@20": run.ndcg, "recall@20": run.recall])
                try store.finish(id, bestEpoch: 10, testMetrics: ["ndcg@20": run.ndcg, "recall@20": run.recall], seconds: 2.5)
            }
        }
    }

    static func runs(_ ndcg: [Double], _ recall: [Double], validation: [Double]) -> [(ndcg: Double, recall: Double, validation: Double)?] {
        (0..<6).map { (ndcg[$0], recall[$0], validation[$0]) }
    }

    /// dns is best on TEST, ahns on VALIDATION: the best baseline must be ahns.
    static func plantedSamplers(dnsValidation: Double = 0.40) -> [Planted] {
        [
            Planted(name: "uniform", configuration: ["lr": 0.001, "l2": 0.0001],
                    otherTuned: [["lr": 0.001, "l2": 0.001]],
                    runs: runs([0.3859, 0.3862, 0.3855, 0.3866, 0.3851, 0.3860], [0.2010, 0.2020, 0.2000, 0.2030, 0.2015, 0.2025],
                               validation: [0.39, 0.391, 0.389, 0.39, 0.392, 0.388])),
            Planted(name: "dns", configuration: ["lr": 0.001, "l2": 0.0001, "pool": 16],
                    otherTuned: [["lr": 0.01, "l2": 0.0001, "pool": 16]], failedTuned: [["lr": 0.1, "l2": 0.0001, "pool": 32]],
                    runs: runs([0.3950, 0.3940, 0.3960, 0.3945, 0.3955, 0.3948], [0.2050, 0.2070, 0.2040, 0.2060, 0.2065, 0.2045],
                               validation: Array(repeating: dnsValidation, count: 6))),
            Planted(name: "ahns", configuration: ["lr": 0.001, "l2": 0.0001, "p": -2],
                    otherTuned: [["lr": 0.01, "l2": 0.0001, "p": -2], ["lr": 0.001, "l2": 0.0001, "p": -1]],
                    runs: runs([0.3870, 0.3858, 0.3869, 0.3871, 0.3850, 0.3866], [0.2020, 0.2010, 0.2030, 0.2040, 0.2000, 0.2035],
                               validation: [0.42, 0.421, 0.419, 0.42, 0.42, 0.42])),
            Planted(name: "adar", configuration: ["lr": 0.001, "l2": 0.0001, "rho": 0.5],
                    otherTuned: [["lr": 0.01, "l2": 0.0001, "rho": 0.5], ["lr": 0.001, "l2": 0.0001, "rho": 0.3]],
                    runs: runs([0.3982, 0.3975, 0.3990, 0.3968, 0.3985, 0.3979], [0.2080, 0.2060, 0.2090, 0.2070, 0.2075, 0.2085],
                               validation: [0.43, 0.43, 0.43, 0.43, 0.43, 0.43])),
        ]
    }

    static func plantedStore(_ samplers: [Planted] = plantedSamplers()) throws -> RunStore {
        let store = try RunStore.inMemory()
        try fill(store, samplers)
        return store
    }

    static let cell = Cell(dataset: "ml-100k", backbone: "mf", protocol: "full")

    @Test("A table says what its protocol can support: full and full-… nothing, limited-… a caveat, any other not evidence",
          arguments: [("full", ProtocolStanding.evidence), ("full-fixed-split", .evidence),
                      ("limited-fixed-split", .limited), ("reduced", .smoke), ("fullish", .smoke)])
    func protocolStanding(name: String, standing: ProtocolStanding) throws {
        #expect(ProtocolStanding(protocolName: name) == standing)
        let store = try RunStore.inMemory()
        try Self.fill(store, Self.plantedSamplers(), protocol: name)
        let markdown = CellMarkdown.render(try CellReport(cell: Cell(dataset: "ml-100k", backbone: "mf", protocol: name), store: store))
        #expect(markdown.contains("**Limited protocol**") == (standing == .limited))
        #expect(markdown.contains("**Not the `full` protocol**") == (standing == .smoke))
    }

    static func close(_ x: Double?, _ expected: Double, relative: Double = 1e-9) -> Bool {
        guard let x else { return false }
        return abs(x - expected) <= relative * abs(expected)
    }

    // MARK: The table

    @Test("A planted store gives the hand-computed table: means, stds, paired p, Holm over m = 8, CIs (scipy)")
    func handComputedTable() throws {
        let report = try CellReport(cell: Self.cell, store: Self.plantedStore())
        #expect(report.rows.map(\.sampler) == ["uniform", "dns", "ahns", "adar"])
        let expectedMeans: [String: (ndcg: Double, ndcgSD: Double, recall: Double, recallSD: Double)] = [  // numpy
            "uniform": (0.38588333333333336, 0.0005269408568963549, 0.20166666666666666, 0.0010801234497346444),
            "dns": (0.3949666666666667, 0.0007118052168020897, 0.2055, 0.0011832159566199242),
            "ahns": (0.3864, 0.0008318653737234213, 0.20225, 0.0015411035007422346),
            "adar": (0.39798333333333336, 0.0007730890418746622, 0.20766666666666664, 0.0010801234497346444),
        ]
        for row in report.rows {
            let expected = try #require(expectedMeans[row.sampler])
            #expect(row.runs.count == 6)
            #expect(Self.close(row.test[.ndcg]?.mean, expected.ndcg, relative: 1e-12), "\(row.sampler)")
            #expect(Self.close(row.test[.ndcg]?.standardDeviation.value, expected.ndcgSD, relative: 1e-8), "\(row.sampler)")
            #expect(Self.close(row.test[.recall]?.mean, expected.recall, relative: 1e-12), "\(row.sampler)")
            #expect(Self.close(row.test[.recall]?.standardDeviation.value, expected.recallSD, relative: 1e-8), "\(row.sampler)")
        }
        // (candidate, comparator, metric): mean difference, CI, raw p, Holm p — scipy + hand Holm.
        let expected: [(String, String, ReportMetric, Double, Double, Double, Double, Double)] = [
            ("dns", "uniform", .ndcg, 0.00908333333333334, 0.00785335775311885, 0.010313308913547831, 7.474411589983787e-06, 4.4846469539902724e-05),
            ("dns", "uniform", .recall, 0.003833333333333309, 0.0026064956416283337, 0.005060171025038284, 0.0004837789044861623, 0.0019351156179446493),
            ("ahns", "uniform", .ndcg, 0.0005166666666666653, -0.00020253498879537488, 0.0012358683221287054, 0.12407752108984099, 0.24815504217968198),
            ("ahns", "uniform", .recall, 0.0005833333333333246, -0.0011223359059097206, 0.00228900257257637, 0.4195676704899918, 0.4195676704899918),
            ("adar", "uniform", .ndcg, 0.0121, 0.010774217589871883, 0.013425782410128116, 2.6191726937663583e-06, 2.0953381550130867e-05),
            ("adar", "uniform", .recall, 0.005999999999999978, 0.004008835872103428, 0.007991164127896527, 0.0005732451420394405, 0.0019351156179446493),
            ("adar", "ahns", .ndcg, 0.011583333333333334, 0.010278624118283163, 0.012888042548383506, 3.0036881961328123e-06, 2.1025817372929685e-05),
            ("adar", "ahns", .recall, 0.005416666666666653, 0.003845431009998193, 0.006987902323335113, 0.0003042244239579092, 0.001521122119789546),
        ]
        #expect(report.comparisons.count == expected.count)
        for (comparison, row) in zip(report.comparisons, expected) {
            let label = "\(row.0) vs \(row.1) \(row.2)"
            #expect(comparison.candidate == row.0 && comparison.comparator == row.1 && comparison.metric == row.2, "\(label)")
            let statistics = try #require(comparison.statistics)
            #expect(statistics.pairCount == 6)
            #expect(Self.close(statistics.meanDifference, row.3, relative: 1e-9), "\(label)")
            #expect(Self.close(statistics.confidenceInterval.value?.lower, row.4, relative: 1e-7), "\(label)")
            #expect(Self.close(statistics.confidenceInterval.value?.upper, row.5, relative: 1e-7), "\(label)")
            #expect(Self.close(statistics.pValue.value, row.6, relative: 1e-6), "\(label)")
            #expect(Self.close(comparison.holmP.value, row.7, relative: 1e-6), "\(label)")
        }

        let markdown = CellMarkdown.render(report)
        // Python's % formatting of the scipy numbers above.
        let expectedLines = [
            "| uniform (2 configurations tuned, others up to 3) | 6 | 0.2017 ± 0.0011 | 0.3859 ± 0.0005 | — | — |",
            "| dns | 6 | 0.2055 ± 0.0012 | 0.3950 ± 0.0007 | +2.4% · +0.0091 [+0.0079, +0.0103] · p <0.001 | — |",
            "| ahns | 6 | 0.2023 ± 0.0015 | 0.3864 ± 0.0008 | +0.1% · +0.0005 [-0.0002, +0.0012] · p 0.248 | — |",
            "| adar (ADAR) | 6 | 0.2077 ± 0.0011 | 0.3980 ± 0.0008 | +3.1% · +0.0121 [+0.0108, +0.0134] · p <0.001 | +3.0% · +0.0116 [+0.0103, +0.0129] · p <0.001 |",
            "| dns | uniform | NDCG@20 | 6 | +0.0091 [+0.0079, +0.0103] | +2.4% | 7.75 | <0.001 | <0.001 |",
            "| dns | uniform | Recall@20 | 6 | +0.0038 [+0.0026, +0.0051] | +1.9% | 3.28 | <0.001 | 0.002 |",
            "| ahns | uniform | NDCG@20 | 6 | +0.0005 [-0.0002, +0.0012] | +0.1% | 0.75 | 0.124 | 0.248 |",
            "| ahns | uniform | Recall@20 | 6 | +0.0006 [-0.0011, +0.0023] | +0.3% | 0.36 | 0.420 | 0.420 |",
            "| adar | uniform | NDCG@20 | 6 | +0.0121 [+0.0108, +0.0134] | +3.1% | 9.58 | <0.001 | <0.001 |",
            "| adar | uniform | Recall@20 | 6 | +0.0060 [+0.0040, +0.0080] | +3.0% | 3.16 | <0.001 | 0.002 |",
            "| adar | ahns | NDCG@20 | 6 | +0.0116 [+0.0103, +0.0129] | +3.0% | 9.32 | <0.001 | <0.001 |",
            "| adar | ahns | Recall@20 | 6 | +0.0054 [+0.0038, +0.0070] | +2.7% | 3.62 | <0.001 | 0.002 |",
            "adar: 3.0 % above the best baseline (ahns) in NDCG@20 (Δ +0.0116 [+0.0103, +0.0129], Holm p <0.001); 3.1 % above uniform in NDCG@20 (Holm p <0.001).",
            "m = 8. Paired by (split seed, model seed); p from the two-sided paired t-test (GSL), d_z = Δ / sd of the differences.",
            "Not tuned (one value in every run of this cell): `batch=2048`, `dim=64`.",
            "| uniform | 2 | `l2=0.0001, lr=0.001` | 0.3900 |",
            "| dns | 3 | `l2=0.0001, lr=0.001, pool=16` | 0.4000 |",
            "| ahns | 3 | `l2=0.0001, lr=0.001, p=-2` | 0.4200 |",
            "| adar | 3 | `l2=0.0001, lr=0.001, rho=0.5` | 0.4300 |",
            "1 failed run (in no table above):",
        ]
        let lines = Set(markdown.split(separator: "\n").map(String.init))
        for line in expectedLines {
            let found = lines.contains(line)
            #expect(found, "missing line: \(line)\n--- in ---\n\(markdown)")
        }
        #expect(markdown.contains("all **m = 8** comparisons"))
        #expect(markdown.contains("Best baseline: **ahns**"))
        #expect(markdown.contains("The budgets differ.") && !markdown.contains("No tune-phase runs"))
        #expect(!markdown.contains("n/a"))
    }

    @Test("The best baseline is chosen on validation, even when another baseline is best on test")
    func bestBaselineChosenOnValidation() throws {
        // Planted: dns has the best test NDCG@20 of the baselines, ahns the best validation NDCG@20.
        let report = try CellReport(cell: Self.cell, store: Self.plantedStore())
        let dns = try #require(report.rows.first { $0.sampler == "dns" }), ahns = try #require(report.rows.first { $0.sampler == "ahns" })
        #expect(dns.test[.ndcg]!.mean > ahns.test[.ndcg]!.mean)
        #expect(ahns.validationNDCG.mean > dns.validationNDCG.mean)
        #expect(report.bestBaseline?.sampler == "ahns")
        #expect(report.comparisons.filter { $0.kind == .bestBaseline }.allSatisfy { $0.comparator == "ahns" })
        #expect(!report.comparisons.contains { $0.comparator == "dns" })

        // The same runs with dns's validation above ahns's: now dns is chosen (the choice follows validation).
        let flipped = try CellReport(cell: Self.cell, store: Self.plantedStore(Self.plantedSamplers(dnsValidation: 0.425)))
        #expect(flipped.bestBaseline?.sampler == "dns")
        #expect(flipped.comparisons.filter { $0.kind == .bestBaseline }.map(\.comparator) == ["dns", "dns"])

        // ADAR is never a baseline, however high its validation: adar-lite's 0.99 is ignored.
        var samplers = Self.plantedSamplers()
        var lite = samplers[3]
        lite.name = "adar-lite"
        lite.runs = lite.runs.map { $0.map { ($0.ndcg, $0.recall, 0.99) } }
        samplers.append(lite)
        let withVariant = try CellReport(cell: Self.cell, store: Self.plantedStore(samplers))
        #expect(withVariant.bestBaseline?.sampler == "ahns")
        #expect(withVariant.rows.map(\.sampler) == ["uniform", "dns", "ahns", "adar", "adar-lite"])
        #expect(withVariant.comparisons.count == 12)
    }

    @Test("Failed runs never enter a table; they are counted and listed with their reasons")
    func failedRunsStayOut() throws {
        var samplers = Self.plantedSamplers()
        samplers[3].runs[5] = nil  // adar's (2027, 3) final run diverged
        let report = try CellReport(cell: Self.cell, store: Self.plantedStore(samplers))
        let adar = try #require(report.rows.first { $0.sampler == "adar" })
        #expect(adar.runs.count == 5)
        let kept = [0.3982, 0.3975, 0.3990, 0.3968, 0.3985]
        #expect(Self.close(adar.test[.ndcg]?.mean, kept.reduce(0, +) / 5, relative: 1e-12))
        for comparison in report.comparisons where comparison.candidate == "adar" {
            #expect(comparison.statistics?.pairCount == 5)
            #expect(comparison.unpaired == ["\(comparison.comparator) split seed 2027, model seed 3"])
        }
        // The planted adar-vs-uniform NDCG@20 test on the five complete pairs (scipy).
        let vsUniform = try #require(report.comparisons.first { $0.candidate == "adar" && $0.kind == .uniform && $0.metric == .ndcg })
        #expect(Self.close(vsUniform.statistics?.pValue.value, 4.2680603890044e-05, relative: 1e-6))  // scipy
        #expect(report.failedRuns.count == 2)
        #expect(report.failedRuns.map(\.reason).sorted() == ["diverged: loss is NaN at epoch 7", "diverged: validation NDCG@20 is NaN at epoch 15"])
        let markdown = CellMarkdown.render(report)
        #expect(markdown.contains("| adar (ADAR) | 5 |"))
        #expect(markdown.contains("2 failed runs (in no table above):"))
        #expect(markdown.contains("- final adar `{\"batch\":2048,\"dim\":64,\"l2\":0.0001,\"lr\":0.001,\"rho\":0.5}` split seed 2027, model seed 3: diverged: loss is NaN at epoch 7"))
        #expect(markdown.contains("Runs without a partner, left out of the pairing: ahns split seed 2027, model seed 3; uniform split seed 2027, model seed 3."))
    }

    @Test("Undefined statistics print as n/a with a footnote, never NaN: one run per sampler, zero variance")
    func undefinedStatisticsPrintNA() throws {
        // One run each: no std, no p, no CI.
        let single = [
            Planted(name: "uniform", configuration: ["lr": 0.001], runs: [(0.30, 0.20, 0.31)]),
            Planted(name: "adar", configuration: ["lr": 0.001, "rho": 0.5], runs: [(0.32, 0.21, 0.33)]),
        ]
        let one = try CellReport(cell: Self.cell, store: Self.plantedStore(single))
        let markdown = CellMarkdown.render(one)
        #expect(markdown.contains("| uniform | 1 | 0.2000 ± n/a[1] | 0.3000 ± n/a[1] | — | — |"), "\(markdown)")
        #expect(markdown.contains("[1] one run: no standard deviation"))
        #expect(markdown.contains("[2] one pair: the spread of the differences cannot be estimated"))
        #expect(markdown.contains("adar: not significantly different from the best baseline (uniform) in NDCG@20 (+6.7 %, Δ +0.0200 [n/a[2]], Holm p n/a[2])."), "\(markdown)")
        for bad in ["nan", "NaN", "inf"] { #expect(!markdown.contains(bad)) }

        // Every paired difference exactly 0.125 (binary-exact values): zero variance, no t.
        let exact = [
            Planted(name: "uniform", configuration: ["lr": 0.001],
                    runs: Self.runs([0.25, 0.5, 0.25, 0.5, 0.25, 0.5], [0.25, 0.5, 0.25, 0.5, 0.25, 0.5], validation: Array(repeating: 0.5, count: 6))),
            Planted(name: "adar", configuration: ["lr": 0.001, "rho": 0.5],
                    runs: Self.runs([0.375, 0.625, 0.375, 0.625, 0.375, 0.625], [0.375, 0.625, 0.375, 0.625, 0.375, 0.625], validation: Array(repeating: 0.5, count: 6))),
        ]
        let flat = try CellReport(cell: Self.cell, store: Self.plantedStore(exact))
        #expect(flat.comparisons.count == 2 && flat.comparisons.allSatisfy { $0.holmP.value == nil })
        let flatText = CellMarkdown.render(flat)
        #expect(flatText.contains("every paired difference equals 0.125: zero variance, no t statistic"))
        #expect(flatText.contains("| adar | uniform | NDCG@20 | 6 | +0.1250 [n/a[1]] | +33.3% | n/a[1] | n/a[1] | n/a[1] |"), "\(flatText)")
        for bad in ["nan", "NaN", "inf"] { #expect(!flatText.contains(bad)) }

        // No shared (split seed, model seed): nothing to pair; the comparison still counts in m.
        let disjoint = [
            Planted(name: "uniform", configuration: ["lr": 0.001], runs: [(0.30, 0.20, 0.31), (0.31, 0.21, 0.31), nil, nil]),
            Planted(name: "adar", configuration: ["lr": 0.001, "rho": 0.5], runs: [nil, nil, (0.32, 0.21, 0.33), (0.33, 0.22, 0.33)]),
        ]
        let apart = try CellReport(cell: Self.cell, store: Self.plantedStore(disjoint))
        #expect(apart.comparisons.count == 2 && apart.comparisons.allSatisfy { $0.statistics == nil && $0.holmP.value == nil })
        let apartText = CellMarkdown.render(apart)
        #expect(apartText.contains("| adar | uniform | NDCG@20 | 0 | n/a[1] | n/a[1] | n/a[1] | n/a[1] | n/a[1] |"), "\(apartText)")
        #expect(apartText.contains("[1] no paired runs: adar and uniform share no split and model seed"))
        #expect(apartText.contains("adar: cannot be compared with the best baseline (uniform) in NDCG@20: no paired runs."))
        #expect(apartText.contains("4 failed runs (in no table above):"))
    }

    @Test("Verdict lines: above, below, not significantly different from the best baseline")
    func verdictWords() throws {
        func verdict(adar: [Double]) throws -> String {
            let samplers = [
                Planted(name: "uniform", configuration: ["lr": 0.001],
                        runs: Self.runs([0.3859, 0.3862, 0.3855, 0.3866, 0.3851, 0.3860], Array(repeating: 0.2, count: 6), validation: Array(repeating: 0.4, count: 6))),
                Planted(name: "adar", configuration: ["lr": 0.001, "rho": 0.5],
                        runs: Self.runs(adar, Array(repeating: 0.2, count: 6), validation: Array(repeating: 0.41, count: 6))),
            ]
            let markdown = CellMarkdown.render(try CellReport(cell: Self.cell, store: Self.plantedStore(samplers)))
            return try #require(markdown.split(separator: "\n").first { $0.hasPrefix("adar: ") }.map(String.init))
        }
        #expect(try verdict(adar: [0.3982, 0.3975, 0.3990, 0.3968, 0.3985, 0.3979])
            .hasPrefix("adar: 3.1 % above the best baseline (uniform) in NDCG@20 (Δ +0.0121"))
        // Raw p 1.59e-7 (scipy).
        #expect(try verdict(adar: [0.3759, 0.3770, 0.3745, 0.3766, 0.3751, 0.3755])
            .hasPrefix("adar: 2.6 % below the best baseline (uniform) in NDCG@20 (Δ -0.0101"))
        // Mixed signs, raw p 0.530 (scipy): not significant.
        #expect(try verdict(adar: [0.3869, 0.3852, 0.3875, 0.3866, 0.3861, 0.3850])
            .hasPrefix("adar: not significantly different from the best baseline (uniform) in NDCG@20 (+0.1 %"))
    }

    @Test("A sampler with final runs of two configurations is refused, naming both")
    func severalConfigurationsRefused() throws {
        let store = try Self.plantedStore()
        let id = try Self.started(store.begin(Self.spec(.final, "dns", ["lr": 0.01, "l2": 0.0001, "pool": 16], split: 2026, model: 9), codeVersion: "test"))
        try store.recordEvaluation(id, epoch: 5, split: .validation, metrics: ["ndcg@20": 0.3])
        try store.finish(id, bestEpoch: 5, testMetrics: ["ndcg@20": 0.3, "recall@20": 0.2], seconds: 1)
        #expect(throws: ReportError.severalConfigurations(
            cell: "ml-100k · mf · protocol full", sampler: "dns",
            configurations: ["{\"batch\":2048,\"dim\":64,\"l2\":0.0001,\"lr\":0.001,\"pool\":16}", "{\"batch\":2048,\"dim\":64,\"l2\":0.0001,\"lr\":0.01,\"pool\":16}"])) {
            try CellReport(cell: Self.cell, store: store)
        }
    }

    @Test("Final runs that do not use the best tuned configuration are flagged")
    func tuningMismatchFlagged() throws {
        let store = try Self.plantedStore()
        #expect(try CellReport(cell: Self.cell, store: store).tuningMismatches.isEmpty)
        // A dns configuration tuned better on validation than the one its final runs use.
        let id = try Self.started(store.begin(Self.spec(.tune, "dns", ["lr": 0.003, "l2": 0.0001, "pool": 16], split: 2026, model: 1), codeVersion: "test"))
        try store.recordEvaluation(id, epoch: 5, split: .validation, metrics: ["ndcg@20": 0.5])
        try store.finish(id, bestEpoch: 5, testMetrics: [:], seconds: 1)
        let report = try CellReport(cell: Self.cell, store: store)
        #expect(report.tuningMismatches == [
            "dns: its final runs use a configuration with tune-phase validation NDCG@20 0.3, below the best tuned, 0.5 "
                + "({\"batch\":2048,\"dim\":64,\"l2\":0.0001,\"lr\":0.003,\"pool\":16})",
        ])
        #expect(CellMarkdown.render(report).contains("**Warning:** dns: its final runs use a configuration"))
    }

    @Test("A row with tuning runs but no finished final run is named under the table, never silently left out")
    func unfinishedRowNamed() throws {
        let store = try Self.plantedStore()
        let complete = try CellReport(cell: Self.cell, store: store)
        #expect(complete.unfinishedRows.isEmpty)
        #expect(!CellMarkdown.render(complete).contains("Not in this table yet"))
        for lr: ConfigurationValue in [0.001, 0.003] {
            let id = try Self.started(store.begin(Self.spec(.tune, "adar-denoised", ["lr": lr], split: 2026, model: 1), codeVersion: "test"))
            try store.recordEvaluation(id, epoch: 5, split: .validation, metrics: ["ndcg@20": 0.3])
            try store.finish(id, bestEpoch: 5, testMetrics: [:], seconds: 1)
        }
        _ = try Self.started(store.begin(Self.spec(.final, "adar-denoised", ["lr": 0.003], split: 2026, model: 1), codeVersion: "test"))
        let report = try CellReport(cell: Self.cell, store: store)
        #expect(report.unfinishedRows.map(\.sampler) == ["adar-denoised"])
        #expect(report.unfinishedRows.map(\.tuneRuns) == [2])
        #expect(report.unfinishedRows.map(\.runningRuns) == [1])
        #expect(!report.rows.contains { $0.sampler == "adar-denoised" })
        #expect(CellMarkdown.render(report).contains(
            "**Not in this table yet:** adar-denoised (2 tune-phase runs ended, 1 unfinished): the store holds runs but no finished final run for this row"))
        // A row whose only run is still running (its first tuning run, say) is named too.
        _ = try Self.started(store.begin(Self.spec(.tune, "adar-w0", ["lr": 0.001], split: 2026, model: 1), codeVersion: "test"))
        #expect(try CellReport(cell: Self.cell, store: store).unfinishedRows.map(\.sampler) == ["adar-denoised", "adar-w0"])
    }

    @Test("Runs the epoch cap stopped, not patience, are counted per phase and sampler beside the table")
    func epochCapCounted() throws {
        /// (phase, sampler, lr, model seed, stopped by patience, epochs trained); nil = no stop reason recorded.
        func store(_ runs: [(RunPhase, String, Double, UInt64, Double?, Double)]) throws -> RunStore {
            let store = try RunStore.inMemory()
            for (phase, sampler, lr, model, patience, epochs) in runs {
                let id = try Self.started(store.begin(Self.spec(phase, sampler, ["lr": .number(lr)], split: 2026, model: model), codeVersion: "test"))
                try store.recordEvaluation(id, epoch: 5, split: .validation, metrics: ["ndcg@20": 0.3, "recall@20": 0.2])
                let summary = patience.map { ["stoppedByPatience": $0, "epochs": epochs] } ?? [:]
                try store.finish(id, bestEpoch: 5, testMetrics: phase == .tune ? [:] : ["ndcg@20": 0.3, "recall@20": 0.2],
                                 seconds: 1, summary: summary)
            }
            return store
        }
        let mixed = try store([
            (.tune, "uniform", 0.001, 1, 1, 20), (.tune, "dns", 0.001, 1, 0, 100), (.tune, "dns", 0.003, 1, 1, 40),
            (.final, "uniform", 0.001, 1, 1, 20), (.final, "uniform", 0.001, 2, 0, 100), (.final, "uniform", 0.001, 3, 0, 100),
            (.final, "dns", 0.003, 1, 1, 45), (.final, "dns", 0.003, 2, 1, 45), (.final, "dns", 0.003, 3, 1, 45),
        ])
        let report = try CellReport(cell: Self.cell, store: mixed)
        #expect(report.epochCap.finalsAtCap.map(\.sampler) == ["uniform"])
        #expect(report.epochCap.finalsAtCap.map(\.runs) == [2])
        #expect(report.epochCap.tunesAtCap.map(\.sampler) == ["dns"])
        #expect(report.epochCap.capEpochs == [100])
        #expect(CellMarkdown.render(report).contains(
            "**Stopped by the epoch cap, not by patience:** 2 of 6 final runs (uniform 2) and 1 of 3 tuning runs (dns 1), "
                + "after 100 epochs. Their validation NDCG@20 had improved within the last `patience` evaluations"))

        let patient = try store([(.tune, "uniform", 0.001, 1, 1, 20), (.final, "uniform", 0.001, 1, 1, 20), (.final, "uniform", 0.001, 2, 1, 25)])
        #expect(CellMarkdown.render(try CellReport(cell: Self.cell, store: patient)).contains(
            "**Epoch cap:** every run stopped by patience (2 final, 1 tuning); none was cut off by the epoch cap."))

        // Without a recorded stop reason nothing is claimed either way.
        let unknown = try CellReport(cell: Self.cell, store: store([(.final, "uniform", 0.001, 1, nil, 0)]))
        #expect(unknown.epochCap.finalsAtCap.isEmpty && unknown.epochCap.finalsRecorded == 0)
        #expect(!CellMarkdown.render(unknown).contains("epoch cap"))
    }

    @Test("A final run without test Recall@20 is refused, naming the run")
    func missingMetricRefused() throws {
        let store = try Self.plantedStore()
        let spec = Self.spec(.final, "dns", ["lr": 0.001, "l2": 0.0001, "pool": 16], split: 2026, model: 9)
        let id = try Self.started(store.begin(spec, codeVersion: "test"))
        try store.recordEvaluation(id, epoch: 5, split: .validation, metrics: ["ndcg@20": 0.3])
        try store.finish(id, bestEpoch: 5, testMetrics: ["ndcg@20": 0.3], seconds: 1)
        #expect(throws: ReportError.missingMetric(run: spec.description, split: "test", metric: "recall@20")) {
            try CellReport(cell: Self.cell, store: store)
        }
    }

    @Test("A store without final runs is refused with what to do")
    func emptyStoreRefused() throws {
        let store = try RunStore.inMemory()
        #expect(throws: ReportError.noFinalRuns(path: ":memory:", filter: "", tuneRuns: 0)) {
            try Report(store: store, filter: .init(), commandLine: "adar report")
        }
        let tuned = try Self.plantedStore()
        #expect(throws: ReportError.noFinalRuns(path: ":memory:", filter: "dataset ml-1m", tuneRuns: 0)) {
            try Report(store: tuned, filter: .init(dataset: "ml-1m"), commandLine: "adar report")
        }
    }

    // MARK: Plots

    @Test("The plots are well-formed SVG with every sampler, the chosen epochs circled, and labelled axes")
    func plotsAreWellFormed() throws {
        let report = try CellReport(cell: Self.cell, store: Self.plantedStore())
        #expect(report.curvePair == PairKey(splitSeed: 2026, modelSeed: 1))
        #expect(report.curves.map(\.sampler) == ["uniform", "dns", "ahns", "adar"])
        #expect(report.curves.allSatisfy { $0.bestEpoch == 10 && $0.points.map(\.epoch) == [5, 10, 15] })
        let curves = CellPlots.validationCurves(report), test = CellPlots.testMetrics(report)
        for svg in [curves, test] {
            #if canImport(FoundationXML) || canImport(Darwin)
            let parser = XMLParser(data: Data(svg.utf8))
            #expect(parser.parse(), "not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "")")
            #endif
            for sampler in ["uniform", "dns", "ahns", "adar"] { #expect(svg.contains(">\(sampler)</text>")) }
            #expect(!svg.contains("nan") && !svg.contains("inf"))
        }
        #expect(curves.contains(">epoch</text>") && curves.contains(">validation NDCG@20</text>") && curves.contains(">chosen epoch</text>"))
        #expect(curves.components(separatedBy: "r=\"6\" fill=\"white\"").count - 1 == 4 + 1)  // 4 chosen epochs + the legend's
        #expect(test.contains(">test NDCG@20</text>") && test.contains(">test Recall@20</text>"))
        #expect(test.components(separatedBy: "<circle").count - 1 == 2 * 24)  // each panel: 4 samplers × 6 runs
    }

    // MARK: README markers

    @Test("Marker replacement replaces only the marked section and refuses missing, repeated or reversed markers")
    func markerReplacement() throws {
        let text = "# Title\n\nIntro.\n\n\(MarkedSection.begin)\nold table\n\(MarkedSection.end)\n\nAfter.\n"
        let replaced = try MarkedSection.replace(in: text, with: "new table\nline 2\n", path: "README.md")
        #expect(replaced == "# Title\n\nIntro.\n\n\(MarkedSection.begin)\nnew table\nline 2\n\(MarkedSection.end)\n\nAfter.\n")
        #expect(try MarkedSection.replace(in: replaced, with: "new table\nline 2\n", path: "README.md") == replaced)

        let missingBegin = "x\n\(MarkedSection.end)\n"
        let missingEnd = "\(MarkedSection.begin)\nx\n"
        let repeated = "\(MarkedSection.begin)\n\(MarkedSection.end)\n\(MarkedSection.begin)\n"
        let reversed = "\(MarkedSection.end)\nx\n\(MarkedSection.begin)\n"
        #expect(throws: ReportError.self) { try MarkedSection.replace(in: missingBegin, with: "t", path: "R.md") }
        do {
            _ = try MarkedSection.replace(in: missingBegin, with: "t", path: "R.md")
        } catch {
            #expect(error.description.hasPrefix("R.md: the marker \(MarkedSection.begin) is missing"))
        }
        do {
            _ = try MarkedSection.replace(in: missingEnd, with: "t", path: "R.md")
            Issue.record("a missing end marker was accepted")
        } catch {
            #expect(error.description.contains("the marker \(MarkedSection.end) is missing"))
        }
        do {
            _ = try MarkedSection.replace(in: repeated, with: "t", path: "R.md")
            Issue.record("a repeated marker was accepted")
        } catch {
            #expect(error.description.contains("appears 2 times (lines 1, 3)"))
        }
        do {
            _ = try MarkedSection.replace(in: reversed, with: "t", path: "R.md")
            Issue.record("reversed markers were accepted")
        } catch {
            #expect(error.description.contains("the end marker (line 1) comes before the begin marker (line 3)"))
        }
    }

    // MARK: Determinism

    @Test("The same store gives byte-identical files, whatever order the runs were recorded in")
    func deterministic() throws {
        let forward = try Report(store: Self.plantedStore(), filter: .init(), commandLine: "adar report").files(markdownOnly: false)
        let again = try Report(store: Self.plantedStore(), filter: .init(), commandLine: "adar report").files(markdownOnly: false)
        let reversed = try Report(store: Self.plantedStore(Self.plantedSamplers().reversed()), filter: .init(), commandLine: "adar report")
            .files(markdownOnly: false)
        #expect(forward.map(\.name) == ["ml-100k-mf-full.md", "ml-100k-mf-full-validation-ndcg.svg", "ml-100k-mf-full-test.svg", "report.md"])
        for other in [again, reversed] {
            #expect(other.map(\.name) == forward.map(\.name))
            for (a, b) in zip(forward, other) { #expect(a.contents == b.contents, "\(a.name) differs") }
        }
    }

    // MARK: End to end

    static func fileStore(in folder: URL, _ samplers: [Planted]? = plantedSamplers()) throws -> String {
        let path = folder.appendingPathComponent("runs.sqlite").path
        let store = try RunStore(path: path)
        if let samplers { try fill(store, samplers) }
        return path
    }

    static func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("adar-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test("adar report writes its files as one set: when report.md cannot be replaced, no file of the set changes",
          .enabled(if: TrainingRobustnessTests.immutableFilesWork, "needs chattr +i (root on a file system with immutable files)"))
    func reportSetStaysConsistent() throws {
        let folder = try Self.temporaryFolder()
        _ = try Self.fileStore(in: folder)
        let out = folder.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let old = ["report.md": "old report\n", "summary.csv": "old csv\n"]
        for (name, text) in old { try Data(text.utf8).write(to: out.appendingPathComponent(name)) }
        let locked = out.appendingPathComponent("report.md")
        #expect(TrainingRobustnessTests.chattr("+i", locked))
        defer {
            _ = TrainingRobustnessTests.chattr("-i", locked)
            try? FileManager.default.removeItem(at: folder)
        }
        let result = try ADARExecutable.run(["report", "--store", "runs.sqlite", "--output", "out"], in: folder)
        #expect(result.status == 73 && !result.endedBySignal, "\(result.status) \(result.standardError)")
        #expect(result.standardError.contains("report.md: cannot replace this file; none of"), "\(result.standardError)")
        // The files renamed before report.md got their old contents back (or were removed), the rest were never renamed.
        let left = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        #expect(left == ["report.md", "summary.csv"], "\(left)")
        for (name, text) in old {
            #expect(try String(contentsOf: out.appendingPathComponent(name), encoding: .utf8) == text, "\(name) changed")
        }
    }

    @Test("adar report writes the tables, plots, report.md and summaries; a second run gives the same bytes")
    func endToEnd() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        _ = try Self.fileStore(in: folder)
        let result = try ADARExecutable.run(["report", "--store", "runs.sqlite", "--output", "out"], in: folder)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(!result.endedBySignal)
        #expect(result.standardOutput.contains("ml-100k · mf · protocol full: 4 samplers, m = 8 comparisons, best baseline ahns, 1 failed run"))
        let names = ["report.md", "ml-100k-mf-full.md", "ml-100k-mf-full-validation-ndcg.svg", "ml-100k-mf-full-test.svg", "summary.csv", "summary.json"]
        var first: [String: Data] = [:]
        for name in names {
            first[name] = try Data(contentsOf: folder.appendingPathComponent("out/\(name)"))
        }
        let report = String(decoding: first["report.md"]!, as: UTF8.self)
        #expect(report.hasPrefix("# Evaluation report\n\nGenerated by `adar report --store runs.sqlite --output out` from `runs.sqlite`; do not edit.\n"))
        #expect(report.contains("![validation NDCG@20 curves](ml-100k-mf-full-validation-ndcg.svg)"))
        #expect(report.contains("[summary.csv](summary.csv)"))
        let csv = String(decoding: first["summary.csv"]!, as: UTF8.self)
        #expect(csv.split(separator: "\n").count == 1 + 4 * 6 + 2 + 2 + 3 + 3)  // header, final runs, tune runs

        let again = try ADARExecutable.run(["report", "--store", "runs.sqlite", "--output", "out"], in: folder)
        #expect(again.status == 0)
        for name in names {
            #expect(try Data(contentsOf: folder.appendingPathComponent("out/\(name)")) == first[name], "\(name) changed")
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("out").path).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty)

        let json = try ADARExecutable.run(["report", "--store", "runs.sqlite", "--output", "md", "--markdown-only", "--json"], in: folder)
        #expect(json.status == 0, "\(json.standardError)")
        let object = try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any]
        #expect((object?["files"] as? [String])?.count == 2)
        #expect(((object?["cells"] as? [[String: Any]])?.first?["bestBaseline"] as? String) == "ahns")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("md").path).sorted() == ["ml-100k-mf-full.md", "report.md"])
    }

    @Test("adar report: a missing store is 66, an empty store or a non-store 65, with the reason and what to do")
    func endToEndRefusals() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let missing = try ADARExecutable.run(["report", "--store", "nothing.sqlite", "--output", "out"], in: folder)
        #expect(missing.status == 66 && !missing.endedBySignal)
        #expect(missing.standardError == "adar report: error: nothing.sqlite: no such run store; run `adar tune` first, or give its path with --store\n")

        _ = try Self.fileStore(in: folder, nil)
        let empty = try ADARExecutable.run(["report", "--store", "runs.sqlite", "--output", "out"], in: folder)
        #expect(empty.status == 65 && !empty.endedBySignal)
        #expect(empty.standardError == "adar report: error: runs.sqlite: no final-phase runs, so there is nothing to report (it holds no runs at all: run `adar tune` first)\n")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("out").path))

        try Data("not a database".utf8).write(to: folder.appendingPathComponent("text.sqlite"))
        let foreign = try ADARExecutable.run(["report", "--store", "text.sqlite", "--output", "out"], in: folder)
        #expect(foreign.status == 65 && !foreign.endedBySignal)
        #expect(foreign.standardError.hasPrefix("adar report: error: text.sqlite: cannot open the run store"))

        try Self.fill(RunStore(path: folder.appendingPathComponent("full.sqlite").path), Self.plantedSamplers())
        try Data("a file".utf8).write(to: folder.appendingPathComponent("taken"))
        let unwritable = try ADARExecutable.run(["report", "--store", "full.sqlite", "--output", "taken"], in: folder)
        #expect(unwritable.status == 73 && !unwritable.endedBySignal)
        #expect(unwritable.standardError.contains("--output: \(folder.appendingPathComponent("taken").path) is a file, not a folder; choose another path"), "\(unwritable.standardError)")

        let blank = try ADARExecutable.run(["report", "--output", ""], in: folder)
        #expect(blank.status == 64 && blank.standardError.contains("--output is empty"))
    }

    @Test("adar report --readme regenerates only the marked section, and refuses a file without markers, writing nothing")
    func endToEndReadme() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        _ = try Self.fileStore(in: folder)
        let readme = folder.appendingPathComponent("README.md")
        try "# Project\n\n\(MarkedSection.begin)\ntyped by hand\n\(MarkedSection.end)\n\nMore.\n".write(to: readme, atomically: true, encoding: .utf8)
        let result = try ADARExecutable.run(["report", "--store", "runs.sqlite", "--output", "results/report", "--readme", "README.md"], in: folder)
        #expect(result.status == 0, "\(result.standardError)")
        let text = try String(contentsOf: readme, encoding: .utf8)
        #expect(text.hasPrefix("# Project\n\n\(MarkedSection.begin)\nGenerated by `adar report --store runs.sqlite --output results/report --readme README.md` from `runs.sqlite`; do not edit.\n"))
        #expect(text.hasSuffix("Full report with plots: [results/report/report.md](results/report/report.md).\n\(MarkedSection.end)\n\nMore.\n"))
        #expect(!text.contains("typed by hand"))
        #expect(text.contains("| adar (ADAR) | 6 | 0.2077 ± 0.0011 | 0.3980 ± 0.0008 |"))

        let plain = folder.appendingPathComponent("PLAIN.md")
        try "# No markers\n".write(to: plain, atomically: true, encoding: .utf8)
        let refused = try ADARExecutable.run(["report", "--store", "runs.sqlite", "--output", "other", "--readme", "PLAIN.md"], in: folder)
        #expect(refused.status == 65 && !refused.endedBySignal)
        #expect(refused.standardError.hasPrefix("adar report: error: PLAIN.md: the marker \(MarkedSection.begin) is missing"))
        #expect(try String(contentsOf: plain, encoding: .utf8) == "# No markers\n")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("other").path))

        let absent = try ADARExecutable.run(["report", "--store", "runs.sqlite", "--output", "other", "--readme", "GONE.md"], in: folder)
        #expect(absent.status == 66, "\(absent.standardError)")
    }
}
