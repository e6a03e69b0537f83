import Foundation
import Testing
import ADARCore
import ADARData
import ADARTraining

/// Issue 10: τ and the `denoised` generator (spec S9) wired into training.
@Suite("Training with τ: the denoised generator, warm-up, statistics, determinism")
struct TauTrainingTests {
    static func synthetic() throws -> ImplicitFeedback {
        try .synthetic(users: 120, items: 200, interactionsPerUser: 20, dimension: 8, seed: 5)
    }

    /// FNV-1a over the bit patterns of the parameters and of each epoch's mean loss.
    static func fingerprint(_ parameters: [Float], _ losses: [Double]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ word: UInt64) {
            for byte in 0..<8 { hash = (hash ^ ((word >> (8 * UInt64(byte))) & 0xff)) &* 0x100_0000_01b3 }
        }
        for p in parameters { mix(UInt64(p.bitPattern)) }
        for loss in losses { mix(loss.bitPattern) }
        return hash
    }

    /// Two epochs of every sampler (MF; LightGCN with ADAR under `through` + `hardest`).
    static func forwardFingerprints() throws -> [String: UInt64] {
        let data = try synthetic()
        var result: [String: UInt64] = [:]
        let through = try ADARConfiguration(sigma: 0.1, fallback: .hardest, gradientFlow: .through)
        let cases: [(String, Backbone, SamplerKind, ADARConfiguration?)] =
            SamplerKind.allCases.map { ("mf-\($0.rawValue)", .mf, $0, nil) } + [("lightgcn-adar-through", .lightgcn, .adar, through)]
        for (name, backbone, sampler, adar) in cases {
            let configuration = try TrainingConfiguration(
                backbone: backbone, sampler: sampler, poolSize: 4, adar: adar, dimension: 8, batchSize: 300, epochs: 2)
            let trainer = try Trainer(data: data, configuration: configuration, seed: 42)
            let losses = try (1...2).map { try trainer.trainEpoch($0, threads: 2).meanLoss }
            result[name] = fingerprint(trainer.parameters, losses)
        }
        return result
    }

    @Test("print fingerprints")
    func printFingerprints() throws {
        for (name, value) in try Self.forwardFingerprints().sorted(by: { $0.key < $1.key }) { print("FP \(name) \(String(value, radix: 16))") }
    }
}
