import Foundation
import Dispatch
import ArgumentParser
import ADARCore
import ADARReference
import ADAR
import ADARVerification
import ADARData
import ADARTraining

/// Throughput of the reference and the optimised ADAR against the floor of a
/// row (the larger of the noise-fill bound, the B×d Philox + Box–Muller normals
/// every synthesis must draw, and the gather bound, the row's table reads) and
/// against the same synthesis in PyTorch (Bench/pytorch, run in this invocation).
/// Build in release: `swift run -c release adar-bench`.
@main
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adar-bench",
        abstract: "Measure ADAR throughput: reference, optimised (1 thread, all threads), the noise-fill and gather bounds, and PyTorch.",
        discussion: """
            Each workload gathers rows from an item table of 100,000 items (d-dimensional) and a table of
            10,000 users. Every variant is timed over --runs runs after one warm-up run; the table reports
            the median, min and max, and ratios computed from medians measured in this same invocation.
            The PyTorch peer (Bench/pytorch, python3 with torch and examples/ports/pytorch) reads the same
            tables and index streams; without torch the bench says so in one line and leaves it out.
            """
    )

    @Flag(help: "Small sizes and 3 runs: a smoke test for CI, not a measurement.")
    var quick = false

    @Option(help: "Timed runs per variant (at least 5 for reported numbers).")
    var runs = 7

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Flag(help: "Only time the S8 noise fill on one thread (ns per normal, d = 64), median of --runs runs.")
    var noiseFill = false

    @Flag(help: "Time one ADAR-augmented MF epoch on ML-100K (Swift, 1 thread and all) against the numpy trainer Bench/numpy/adar_epoch.py and the PyTorch trainer Bench/pytorch/adar_epoch.py, in this one invocation.")
    var epoch = false

    @Flag(help: "Time S9's denoised synthesis against forward (ns per row, 1 thread and all) and τ's training step on the synthesis workloads.")
    var denoised = false

    @Flag(inversion: .prefixedNo, help: "Run the PyTorch peers (Bench/pytorch) in this invocation.")
    var pytorch = true

    @Flag(help: "Time the SASRec layers' GEMM (OpenBLAS against the project's own τ kernels) and one SASRec batch (forward + backward) at ML-1M's shapes.")
    var layers = false

    @Flag(help: "Time one SASRec training epoch on ML-1M (L = 200; uniform and ADAR) in Swift against Bench/pytorch/sasrec_epoch.py, with each side's peak memory; with --quick a small synthetic set.")
    var sasrecEpoch = false

    @Flag(help: "Time one LightGCN training epoch (uniform BPR, d = 64, 3 layers) on ML-1M and on ML-100K, one smoothing and one validation evaluation, 1 thread and all, wall and CPU time; with --quick ML-100K only.")
    var lightgcnEpoch = false

    @Option(help: "--epoch, --sasrec-epoch, --lightgcn-epoch: MovieLens cache folder (as `adar data fetch`).")
    var cache = "data"

    @Flag(help: "Sweep all 2³² words through the binary32 ln u and sin/cos (S8/B1, S8/B2) and 2³² word pairs through the normals (S8/B3); prints the max errors. Minutes, in release.")
    var exhaustiveNoiseCheck = false

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
    }

    func run() throws {
        let runs = quick ? min(self.runs, 3) : self.runs
        if exhaustiveNoiseCheck {
            exhaustiveNoiseSweep()
            return
        }
        if epoch {
            print(try epochComparison(cache: cache, runs: runs, pytorch: pytorch))
            return
        }
        if lightgcnEpoch {
            try lightGCNEpochComparison(cache: cache, runs: runs, quick: quick)
            return
        }
        if sasrecEpoch {
            print(try sasrecEpochComparison(cache: cache, runs: runs, quick: quick, pytorch: pytorch))
            return
        }
        if noiseFill {
            print(singleThreadNoiseFill(runs: runs))
            return
        }
        if denoised {
            print(try denoisedComparison(runs: runs, quick: quick))
            return
        }
        if layers {
            print(try layersComparison(runs: runs, quick: quick))
            return
        }
        let workloads: [Workload] = quick
            ? [.synthesis(rows: 512, dimension: 64, pool: 16), .trainingStep(rows: 512, dimension: 64, pool: 16)]
            : [
                .synthesis(rows: 4096, dimension: 64, pool: 16),
                .synthesis(rows: 65536, dimension: 64, pool: 16),
                .synthesis(rows: 4096, dimension: 256, pool: 64),
                .synthesis(rows: 4096, dimension: 64, pool: 1),
                .trainingStep(rows: 4096, dimension: 64, pool: 16),
            ]
        let threads = ADARSynthesizer.defaultThreadCount
        var results: [WorkloadResult] = []
        var notice: String?
        for workload in workloads {
            FileHandle.standardError.write(Data("measuring \(workload.name)…\n".utf8))
            let result = try measure(workload, runs: runs, threads: threads, pytorch: pytorch && notice == nil)
            // A peer that cannot run (no torch) or failed is reported once, and not tried again.
            notice = notice ?? result.pytorch?.notice("PyTorch peer (Bench/pytorch/adar_synthesis.py)")
            results.append(result)
        }
        if json {
            print(renderJSON(results, runs: runs, threads: threads, notice: notice))
        } else {
            print(renderTable(results, runs: runs, threads: threads, notice: notice))
        }
    }
}

enum Workload {
    case synthesis(rows: Int, dimension: Int, pool: Int)
    case trainingStep(rows: Int, dimension: Int, pool: Int)

    /// Rows are gathered from tables of this many items and users.
    static let items = 100_000, users = 10_000

    var shape: (rows: Int, dimension: Int, pool: Int) {
        switch self {
        case let .synthesis(b, d, m), let .trainingStep(b, d, m): (b, d, m)
        }
    }

    var kind: String {
        switch self {
        case .synthesis: "synthesis"
        case .trainingStep: "BPR+ADAR step"
        }
    }

    var name: String {
        let (b, d, m) = shape
        return "\(kind) (B=\(b), d=\(d), M=\(m))"
    }

    var tableBytes: Int { (Self.items + Self.users) * shape.dimension * MemoryLayout<Float>.stride }
}

struct Timing {
    let seconds: [Double]
    var median: Double { let s = seconds.sorted(); return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2 }
    var min: Double { seconds.min()! }
    var max: Double { seconds.max()! }
}

struct VariantResult {
    let name: String
    let timing: Timing
}

struct WorkloadResult {
    let workload: Workload
    let variants: [VariantResult]
    /// Rows on S6's noised path (transition or saturated) in the optimised run.
    let noisedRows: Int
    /// The prefetch distance (rows ahead) of the fastest gather loop, the one reported as the gather bound.
    let gatherAhead: Int
    /// The PyTorch peer's outcome; nil when it was not run.
    let pytorch: PeerOutcome?

    func median(_ name: String) -> Double? { variants.first { $0.name == name }?.timing.median }
}

/// Runs `body` once to warm up, then `runs` timed times.
func time(runs: Int, _ body: () throws -> Void) rethrows -> Timing {
    try timeWithCPU(runs: runs, body).wall
}

func measure(_ workload: Workload, runs: Int, threads: Int, pytorch: Bool) throws -> WorkloadResult {
    let (b, d, m) = workload.shape
    var rng = SeededGenerator(seed: 2026)
    let itemCount = Workload.items, userCount = Workload.users
    // Each user is a noisy copy of a favourite item, and each row pairs a
    // user with that item, so positives outscore random candidates as in a
    // trained model and most rows take the full S6 path (noise included).
    let itemTable = (0 ..< itemCount * d).map { _ in Float(rng.normal() * 0.1) }
    let favourite = (0..<userCount).map { _ in Int(rng.next() % UInt64(itemCount)) }
    let userTable = (0 ..< userCount * d).map { k in itemTable[favourite[k / d] * d + k % d] + Float(rng.normal() * 0.05) }
    let users = (0..<b).map { _ in Int32(rng.next() % UInt64(userCount)) }
    let positives = users.map { Int32(favourite[Int($0)]) }
    let pool = (0 ..< b * m).map { _ in Int32(rng.next() % UInt64(itemCount)) }
    let input = try IndexedRows32(
        dimension: d, poolSize: m, userTable: userTable, itemTable: itemTable,
        users: users, positives: positives, pool: pool)
    let schedule = try NoiseSchedule(.defaultCosine, steps: 1000)
    let configuration = try ADARConfiguration(rho: 0.5, sigma: 0.1, l2: 1e-4)
    let synthesizer = ADARSynthesizer(schedule: schedule, configuration: configuration)
    let noise = Noise32.counter(seed: 7, stream: 0, rowOffset: 0)
    let training: Bool
    if case .trainingStep = workload { training = true } else { training = false }

    // The reference reads binary64 dense rows, gathered outside the timing.
    let gather = { (table: [Float], index: Int32) in table[Int(index) * d ..< (Int(index) + 1) * d].map(Double.init) }
    let batch = try ADARBatch(
        rows: b, dimension: d, poolSize: m,
        users: users.flatMap { gather(userTable, $0) }, positives: positives.flatMap { gather(itemTable, $0) },
        pool: pool.flatMap { gather(itemTable, $0) }, noise: .counter(seed: 7, stream: 0, rowOffset: 0))

    var variants: [VariantResult] = []
    variants.append(VariantResult(name: "reference", timing: try time(runs: runs) {
        let outcomes = try ReferenceADAR.synthesize(batch, schedule: schedule, configuration: configuration)
        if training {
            for row in 0..<b {
                _ = ReferenceADAR.loss(batch, row: row, outcome: outcomes[row], schedule: schedule, configuration: configuration)
            }
        }
    }))
    let synthesis = SynthesisBuffers(), losses = LossBuffers()
    for (name, count) in [("optimised-1", 1), ("optimised-all", threads)] {
        variants.append(VariantResult(name: name, timing: try time(runs: runs) {
            try synthesizer.synthesize(input, noise: noise, into: synthesis, threads: count)
            if training { try synthesizer.loss(input, synthesis: synthesis, into: losses, threads: count) }
        }))
    }
    let noisedRows = synthesis.statuses.filter { !$0.isFallback }.count
    let buffer = UnsafeMutablePointer<Float>.allocate(capacity: b * d)
    defer { buffer.deallocate() }
    variants.append(VariantResult(name: "noise-bound", timing: time(runs: runs) {
        noiseFill(rows: b, dimension: d, into: buffer, threads: threads)
    }))
    // The gather loop has nothing to overlap with its misses but the next rows' prefetches, so its best
    // prefetch distance differs from the synthesizer's one row: the bound is the fastest of 1, 2 and 4 rows ahead.
    let gathers = GatherRows.prefetchDistances.map { ahead in
        (ahead, time(runs: runs) {
            _ = userTable.withUnsafeBufferPointer { u in itemTable.withUnsafeBufferPointer { i in
                users.withUnsafeBufferPointer { us in positives.withUnsafeBufferPointer { ps in pool.withUnsafeBufferPointer { pl in
                    GatherRows(userTable: u.baseAddress!, itemTable: i.baseAddress!, users: us.baseAddress!, positives: ps.baseAddress!,
                               pool: pl.baseAddress!, rows: b, dimension: d, poolSize: m, ahead: ahead).run(into: buffer, threads: threads)
                } } }
            } }
        })
    }
    let fastestGather = gathers.min { $0.1.median < $1.1.median }!
    variants.append(VariantResult(name: "gather-bound", timing: fastestGather.1))

    guard pytorch else { return WorkloadResult(workload: workload, variants: variants, noisedRows: noisedRows, gatherAhead: fastestGather.0, pytorch: nil) }
    FileHandle.standardError.write(Data("  PyTorch peer…\n".utf8))
    let folder = try peerFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    try writeRaw(userTable, to: folder.appendingPathComponent("users.f32"))
    try writeRaw(itemTable, to: folder.appendingPathComponent("items.f32"))
    try writeRaw(users, to: folder.appendingPathComponent("user-ids.i32"))
    try writeRaw(positives, to: folder.appendingPathComponent("positive-ids.i32"))
    try writeRaw(pool, to: folder.appendingPathComponent("pool-ids.i32"))
    let peer = runPeer("pytorch/adar_synthesis.py", [
        "--data", folder.path, "--dimension", "\(d)", "--pool", "\(m)", "--runs", "\(runs)", "--threads", "1,\(threads)",
    ] + (training ? ["--step"] : []))
    let timings = peer.timingsByThreads
    for (name, count) in [("pytorch-1", 1), ("pytorch-all", threads)] {
        if let timing = timings[count] { variants.append(VariantResult(name: name, timing: timing)) }
    }
    return WorkloadResult(workload: workload, variants: variants, noisedRows: noisedRows, gatherAhead: fastestGather.0, pytorch: peer)
}

/// ns per normal of `GaussianNoise32.fill` on one thread: 16,384 rows of d = 64.
func singleThreadNoiseFill(runs: Int) -> String {
    let rows = 16_384, d = 64
    let buffer = UnsafeMutablePointer<Float>.allocate(capacity: rows * d)
    defer { buffer.deallocate() }
    let noise = GaussianNoise32(seed: 7, stream: 0)
    let timing = time(runs: runs) {
        for row in 0..<rows { noise.fill(row: UInt64(row), dimension: d, into: buffer + row * d) }
    }
    var checksum: Float = 0
    for k in 0 ..< rows * d { checksum += buffer[k] * buffer[k] }
    return String(format: "noise fill, 1 thread: median %.2f ns/normal (min %.2f, max %.2f) over %d runs; mean ε² = %.5f",
                  timing.median / Double(rows * d) * 1e9, timing.min / Double(rows * d) * 1e9,
                  timing.max / Double(rows * d) * 1e9, runs, checksum / Float(rows * d))
}

/// S8/B1–B3 over every 32-bit word (B3: every `w0` with its partner
/// `w1 = w0·0x9E3779B9 + 0x7F4A7C15`, the pairing of `Binary32NoiseChecks`),
/// in 4,096 slices of 2²⁰ words over all cores.
func exhaustiveNoiseSweep() {
    let slices = 4096, perSlice = 1 << 20
    let logs = UnsafeMutablePointer<(error: Double, word: UInt32)>.allocate(capacity: slices)
    let trig = UnsafeMutablePointer<(error: Double, word: UInt32)>.allocate(capacity: slices)
    let pairs = UnsafeMutablePointer<(error: Double, at: String)>.allocate(capacity: slices)
    defer { logs.deallocate(); trig.deallocate(); pairs.deallocate() }
    nonisolated(unsafe) let (logSlot, trigSlot, pairSlot) = (logs, trig, pairs)
    let start = Date()
    DispatchQueue.concurrentPerform(iterations: slices) { slice in
        let words = (0..<perSlice).map { UInt32(slice * perSlice + $0) }
        (logSlot + slice).initialize(to: Binary32NoiseChecks.worstLog(words) { BoxMuller32.logUnit($0) })
        (trigSlot + slice).initialize(to: Binary32NoiseChecks.worstSinCos(words) { BoxMuller32.sinCosTurn($0) })
        (pairSlot + slice).initialize(to: Binary32NoiseChecks.worstNormals(
            words, partner: { $0 &* 0x9E37_79B9 &+ 0x7F4A_7C15 }, normals: { BoxMuller32.normals($0, $1) }))
    }
    let worstLog = (0..<slices).map { logs[$0] }.max { $0.error < $1.error }!
    let worstTrig = (0..<slices).map { trig[$0] }.max { $0.error < $1.error }!
    let worstPair = (0..<slices).map { pairs[$0] }.max { $0.error < $1.error }!
    let unit = Binary32NoiseChecks.unit
    print(String(format: "S8/B1 ln u, all 2^32 words: max rel err = %.4f × 2^-24 (bound %.0f) at w = 0x%08X",
                 worstLog.error / unit, Binary32NoiseChecks.logBound / unit, worstLog.word))
    print(String(format: "S8/B2 sin/cos, all 2^32 words: max err/(|f64| + 2^-24) = %.4f × 2^-24 (bound %.0f) at w = 0x%08X",
                 worstTrig.error / unit, Binary32NoiseChecks.sinCosBound / unit, worstTrig.word))
    print(String(format: "S8/B3 normals, 2^32 pairs: max err/(|ε64| + 2^-24) = %.4f × 2^-24 (bound %.0f)",
                 worstPair.error / unit, Binary32NoiseChecks.normalBound / unit) + " at " + worstPair.at)
    print(String(format: "(%.0f s)", Date().timeIntervalSince(start)))
}
