import Foundation
import Testing
import ADARVerification

/// The seed a claim runs with: `ADAR_SEED` when set (to replay a failure or
/// explore), otherwise the claim's fixed default, so CI is deterministic.
func seedFromEnvironment() -> UInt64? {
    ProcessInfo.processInfo.environment["ADAR_SEED"].flatMap { UInt64($0) }
}

/// Runs the registered claim `id` and expects it to pass; a failure prints
/// the statistic, the worst case, the seed and the replay command.
@discardableResult
func expectClaim(_ id: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> ClaimResult {
    let claim = try #require(Claims.claim(id), "no claim \(id) is registered in Claims.all", sourceLocation: sourceLocation)
    let result = try claim.run(seed: seedFromEnvironment())
    #expect(result.passed, "\(result)", sourceLocation: sourceLocation)
    return result
}

/// Expects a checker run against a deliberately broken implementation to fail.
func expectRejected(_ result: ClaimResult, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(!result.passed, "the checker accepted a broken implementation: \(result)", sourceLocation: sourceLocation)
}
