import Foundation

/// The test split's per-user target items, handed out only against a
/// `ChosenModel` (docs/PROTOCOL.md "The test-split guard").
///
/// A `ChosenModel` comes only from an `EarlyStopping` that has stopped, so code
/// that tunes or trains cannot read the test items: it has no proof to show.
/// `accessCount` counts the unseals, so a test can check that a tuning loop
/// never unsealed the split.
public final class SealedTestSplit: @unchecked Sendable {
    private let targets: [[Int32]]
    private let lock = NSLock()
    private var unsealCount = 0

    /// `targets[u]`: the test items of user `u` (empty for users without any).
    public init(targets: [[Int32]]) { self.targets = targets }

    /// Users in the split (not secret: the training data has the same users).
    public var userCount: Int { targets.count }

    /// How many times the targets have been handed out.
    public var accessCount: Int { lock.withLock { unsealCount } }

    /// The test items, for the final evaluation of the model `model` chose.
    public func unseal(for model: ChosenModel) -> [[Int32]] {
        lock.withLock { unsealCount += 1 }
        return targets
    }
}
