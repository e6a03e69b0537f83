import Testing
import ADARCore
import ADAR

/// The README's "Using the optimised implementation" example, compiled and run,
/// so the documentation cannot drift from the API.
@Suite("README example")
struct ReadmeExampleTests {
    @Test("the README's training-form example runs and fills its buffers")
    func readmeExample() throws {
        var rng = SeededGenerator(seed: 1)
        let d = 64, userCount = 50, itemCount = 200, batch = 32, m = 16
        let userTable = (0 ..< userCount * d).map { _ in Float(rng.normal() * 0.1) }
        let itemTable = (0 ..< itemCount * d).map { _ in Float(rng.normal() * 0.1) }
        let batchUsers = (0..<batch).map { _ in Int32.random(in: 0..<Int32(userCount), using: &rng) }
        let batchPositives = (0..<batch).map { _ in Int32.random(in: 0..<Int32(itemCount), using: &rng) }
        let batchPool = (0 ..< batch * m).map { _ in Int32.random(in: 0..<Int32(itemCount), using: &rng) }
        let epoch: UInt32 = 3, batchStart: UInt64 = 4096

        // README begins
        let schedule = try NoiseSchedule(.defaultCosine, steps: 1000)
        let configuration = try ADARConfiguration(rho: 0.5, policy: .max, sigma: 0.1)
        let synthesizer = ADARSynthesizer(schedule: schedule, configuration: configuration)
        let rows = try IndexedRows32(dimension: d, poolSize: m, userTable: userTable, itemTable: itemTable,
                                     users: batchUsers, positives: batchPositives, pool: batchPool)
        let synthesis = SynthesisBuffers(), losses = LossBuffers()   // reuse them across batches
        try synthesizer.synthesize(rows, noise: .counter(seed: 42, stream: epoch, rowOffset: batchStart), into: synthesis)
        try synthesizer.loss(rows, synthesis: synthesis, into: losses)
        // README ends

        #expect(synthesis.rows == batch && synthesis.syntheticNegatives.count == batch * d)
        #expect(losses.rows == batch && losses.userGradients.count == batch * d)
        #expect(losses.losses.allSatisfy { $0.isFinite && $0 > 0 })
    }
}
