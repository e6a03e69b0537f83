import Foundation
import ADARCore

/// White-box entry points (package access): τ's batched passes on arrays,
/// for the equivalence checks (Proofs/S9-binary32-tau.md). Each builds
/// `V = [x_t ; PE(t) ; e_u]` from the network's own `PE` table and calls the
/// very passes `TauTrainer32.step` calls.
extension TauNetwork32 {
    /// `ε̂ = τ(x_t, PE(t), e_u)` for `B` rows (`xt`, `users`: `B × d`).
    package func forward(xt: [Float], timesteps: [Int], users: [Float], threads: Int = 1) -> [Float] {
        let rows = timesteps.count, d = dimension
        let workspace = prepared(xt: xt, timesteps: timesteps, users: users)
        forward(rows: rows, workspace: workspace, threads: threads)
        return Array(UnsafeBufferPointer(start: workspace.outputs, count: rows * d))
    }

    /// S9's batch `L_τ` and its gradient (`W₁ | b₁ | W₂ | b₂`) with explicit
    /// `ε′` (`targets`, `B × d`).
    package func lossAndGradient(
        xt: [Float], timesteps: [Int], users: [Float], targets: [Float], threads: Int = 1
    ) -> (loss: Float, gradient: [Float]) {
        let rows = timesteps.count, d = dimension
        precondition(targets.count == rows * d)
        let workspace = prepared(xt: xt, timesteps: timesteps, users: users)
        workspace.targets.update(from: targets, count: rows * d)
        var gradient = [Float](repeating: 0, count: parameters.count)
        let loss = gradient.withUnsafeMutableBufferPointer {
            lossAndGradient(rows: rows, workspace: workspace, threads: threads, into: $0.baseAddress!)
        }
        return (loss, gradient)
    }

    private func prepared(xt: [Float], timesteps: [Int], users: [Float]) -> TauWorkspace32 {
        let rows = timesteps.count, d = dimension
        precondition(xt.count == rows * d && users.count == rows * d && timesteps.allSatisfy { (0...steps).contains($0) })
        let workspace = TauWorkspace32(dimension: d)
        workspace.reserve(rows: rows)
        for b in 0..<rows {
            let v = workspace.inputs + b * 3 * d
            for k in 0..<d {
                v[k] = xt[b * d + k]
                v[d + k] = positionalEncoding[timesteps[b] * d + k]
                v[2 * d + k] = users[b * d + k]
            }
        }
        return workspace
    }
}

/// Deliberate bugs in τ's prepared state, for the equivalence checks to show
/// that they catch a wrong optimised τ (the passes themselves are the production ones).
package enum TauMutation: CaseIterable, Sendable {
    /// `PE(t)` with `sin` and `cos` exchanged (odd and even components swapped).
    case swappedSinCos
    /// `v = [e_u ; PE(t) ; x_t]`: `W₁`'s first and last column blocks exchanged.
    case swappedConcatenation
}

extension TauNetwork32 {
    /// `base` with its prepared state corrupted by `mutation`.
    package init(mutating base: TauNetwork32, _ mutation: TauMutation) {
        self = base
        let d = dimension
        switch mutation {
        case .swappedSinCos:
            let table = Self.positionalTable(dimension: d, steps: steps)
            let swapped = table.indices.map { i -> Double in
                let t = i / d, k = i % d
                let angle = Double(t) * Foundation.exp(-Double(k - k % 2) / Double(d) * Foundation.log(10_000.0))
                return k % 2 == 0 ? Foundation.cos(angle) : Foundation.sin(angle)
            }
            precondition(swapped.count == table.count)
            positionalEncoding = swapped.map(Float.init)
        case .swappedConcatenation:
            for r in 0 ..< 4 * d {
                for c in 0..<d { parameters.swapAt(r * 3 * d + c, r * 3 * d + 2 * d + c) }
            }
        }
    }
}
