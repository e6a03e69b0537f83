import Foundation
import ADARCore
import ADARReference
import ADAR

extension TauCase {
    /// A case given by its values, as a shrunk counterexample prints it:
    /// τ's flat parameters (`W₁ | b₁ | W₂ | b₂`, S9), and `rows` rows of
    /// `x_t`, `t`, `e_u` and targets `ε′`.
    public init(
        dimension: Int, steps: Int, parameters: [Float],
        xt: [Float], timesteps: [Int], users: [Float], targets: [Float], caseSeed: UInt64, index: Int = 0
    ) throws {
        let rows = timesteps.count
        for (field, values) in [("xt", xt), ("users", users), ("targets", targets)] where values.count != rows * dimension {
            throw ADARError.shapeMismatch(field: field, expected: rows * dimension, actual: values.count)
        }
        if let b = timesteps.firstIndex(where: { !(0...steps).contains($0) }) {
            throw ADARError.indexOutOfRange(row: b, field: "timesteps", index: timesteps[b], count: steps + 1)
        }
        self.init(index: index, caseSeed: caseSeed, dimension: dimension, steps: steps, rows: rows,
                  network: try TauNetwork32(dimension: dimension, steps: steps, parameters: parameters),
                  xt: xt, timesteps: timesteps, users: users, targets: targets, weightScale: 1, inputScale: 1)
    }

    /// The case with other values; `nil` when they do not make a network (never for the candidates built here).
    func replacing(
        dimension: Int? = nil, steps: Int? = nil, parameters: [Float]? = nil,
        xt: [Float]? = nil, timesteps: [Int]? = nil, users: [Float]? = nil, targets: [Float]? = nil
    ) -> TauCase? {
        try? TauCase(
            dimension: dimension ?? self.dimension, steps: steps ?? self.steps, parameters: parameters ?? network.parameters,
            xt: xt ?? self.xt, timesteps: timesteps ?? self.timesteps, users: users ?? self.users,
            targets: targets ?? self.targets, caseSeed: caseSeed, index: index)
    }

    /// Rows `keep` only.
    func restricted(rows keep: [Int]) -> TauCase? {
        func vectors(_ values: [Float]) -> [Float] { keep.flatMap { row(values, $0) } }
        return replacing(xt: vectors(xt), timesteps: keep.map { timesteps[$0] }, users: vectors(users), targets: vectors(targets))
    }

    /// The sub-network on the first `k` components: hidden units `0..<4k`, the
    /// first `k` columns of each input block (`x_t`, `PE`, `e_u`), outputs `0..<k`.
    func restricted(dimension k: Int) -> TauCase? {
        let parameters = tauSubNetwork(network.parameters, dimension: dimension, keeping: k)
        func vectors(_ values: [Float]) -> [Float] { (0..<rows).flatMap { row(values, $0).prefix(k) } }
        return replacing(dimension: k, parameters: parameters, xt: vectors(xt), users: vectors(users), targets: vectors(targets))
    }
}

extension TauCase: Shrinkable {
    public var shrinkSize: [Int] {
        [rows, dimension, steps,
         timesteps.reduce(0) { $0 + min($1, 2) } + Simplicity.complexity(network.parameters)
            + Simplicity.complexity(xt) + Simplicity.complexity(users) + Simplicity.complexity(targets)]
    }

    public var shrinkCandidateGroups: [() -> [TauCase]] {
        let groups: [() -> [TauCase?]] = [
            { rows > 1 ? (0..<rows).map { restricted(rows: [$0]) } : [] },
            { rows > 1 ? (0..<rows).map { b in restricted(rows: (0..<rows).filter { $0 != b }) } : [] },
            { smallerCounts(dimension).map { restricted(dimension: $0) } },
            { smallerCounts(steps).map { T in replacing(steps: T, timesteps: timesteps.map { min($0, T) }) } },
            {
                timesteps.indices.flatMap { b in
                    [0, 1].filter { $0 < timesteps[b] }.map { simpler in
                        var changed = timesteps
                        changed[b] = simpler
                        return replacing(timesteps: changed)
                    }
                }
            },
            {
                let perComponent = xt.count * 3 <= Simplicity.perComponentLimit
                return Simplicity.vectorCandidates(xt, perComponent: perComponent).map { replacing(xt: $0) }
                    + Simplicity.vectorCandidates(users, perComponent: perComponent).map { replacing(users: $0) }
                    + Simplicity.vectorCandidates(targets, perComponent: perComponent).map { replacing(targets: $0) }
            },
            {
                let parameters = network.parameters
                return Simplicity.vectorCandidates(parameters, perComponent: parameters.count <= Simplicity.perComponentLimit)
                    .map { replacing(parameters: $0) }
            },
        ]
        return groups.map { group in { group().compactMap { $0 } } }
    }

    public var summary: String {
        var text = "B = \(rows), d = \(dimension), T = \(steps), t \(timesteps)"
        if xt.count <= 16 {
            text += "; x_t \(SwiftSource.array(xt)), e_u \(SwiftSource.array(users)), ε′ \(SwiftSource.array(targets))"
        }
        if network.parameters.count <= 32 { text += "; θ \(SwiftSource.array(network.parameters))" }
        return text + " (case #\(index), case seed \(caseSeed))"
    }

    public var swiftExpression: String {
        """
        try TauCase(
            dimension: \(dimension), steps: \(steps),
            parameters: \(SwiftSource.array(network.parameters)),
            xt: \(SwiftSource.array(xt)),
            timesteps: \(SwiftSource.array(timesteps)),
            users: \(SwiftSource.array(users)),
            targets: \(SwiftSource.array(targets)),
            caseSeed: \(caseSeed))
        """
    }
}

/// τ's flat parameters (`W₁ | b₁ | W₂ | b₂`, S9) restricted to the sub-network on the first `k`
/// components: hidden units `0..<4k`, the first `k` columns of each input block (`x_t`, `PE`,
/// `e_u`), outputs `0..<k`.
func tauSubNetwork<Value>(_ p: [Value], dimension d: Int, keeping k: Int) -> [Value] {
    let b1: Int = 12 * d * d, w2: Int = b1 + 4 * d, b2: Int = w2 + 4 * d * d
    var parameters = [Value]()
    for h in 0 ..< 4 * k {
        for block in 0..<3 {
            let start: Int = h * 3 * d + block * d
            parameters += p[start ..< start + k]
        }
    }
    parameters += p[b1 ..< b1 + 4 * k]
    for o in 0..<k {
        let start: Int = w2 + o * 4 * d
        parameters += p[start ..< start + 4 * k]
    }
    parameters += p[b2 ..< b2 + k]
    return parameters
}

/// One row of S9/F1 and S9/G1 in binary64: τ's parameters, `x_t`, `t`, `e_u` and `ε′`. Both claims
/// hold for every τ and row with `d ≥ 1` and `t ≥ 1` (the sweep draws `t ∈ 1…1000`): the
/// initialiser checks the shapes and `t`, so a shrunk row stays in their domain.
public struct TauRowCase: Sendable {
    public let parameters: TauParameters
    public let noisy: [Double], timestep: Int, user: [Double], target: [Double]
    /// Which row of its sweep the case was (0 for a case given by values).
    public let index: Int

    public var dimension: Int { parameters.dimension }

    /// A row given by its values, as a shrunk counterexample prints it: τ's flat parameters
    /// (`W₁ | b₁ | W₂ | b₂`, `16d² + 5d` values) and the row's vectors of `d` values.
    public init(
        dimension d: Int, parameters: [Double], noisy: [Double], timestep: Int, user: [Double], target: [Double], index: Int = 0
    ) throws {
        guard d >= 1 else { throw ADARError.invalidConfiguration(field: "dimension", reason: "d = \(d) must be ≥ 1") }
        if parameters.count != 16 * d * d + 5 * d {
            throw ADARError.shapeMismatch(field: "parameters", expected: 16 * d * d + 5 * d, actual: parameters.count)
        }
        for (field, values) in [("noisy", noisy), ("user", user), ("target", target)] where values.count != d {
            throw ADARError.shapeMismatch(field: field, expected: d, actual: values.count)
        }
        guard timestep >= 1 else {
            throw ADARError.invalidConfiguration(field: "timestep", reason: "t = \(timestep) must be ≥ 1 (the claims draw t ∈ 1…1000)")
        }
        self.parameters = TauParameters(dimension: d, flattened: parameters)
        self.noisy = noisy
        self.timestep = timestep
        self.user = user
        self.target = target
        self.index = index
    }

    func replacing(
        dimension: Int? = nil, parameters: [Double]? = nil, noisy: [Double]? = nil, timestep: Int? = nil,
        user: [Double]? = nil, target: [Double]? = nil
    ) -> TauRowCase? {
        try? TauRowCase(
            dimension: dimension ?? self.dimension, parameters: parameters ?? self.parameters.flattened,
            noisy: noisy ?? self.noisy, timestep: timestep ?? self.timestep, user: user ?? self.user,
            target: target ?? self.target, index: index)
    }

    /// The sub-network and row on the first `k` components.
    func restricted(dimension k: Int) -> TauRowCase? {
        replacing(dimension: k, parameters: tauSubNetwork(parameters.flattened, dimension: dimension, keeping: k),
                  noisy: Array(noisy.prefix(k)), user: Array(user.prefix(k)), target: Array(target.prefix(k)))
    }
}

extension TauRowCase: Shrinkable {
    public var shrinkSize: [Int] {
        [dimension, timestep, Simplicity.complexity(noisy + user + target) + Simplicity.complexity(parameters.flattened)]
    }

    public var shrinkCandidateGroups: [() -> [TauRowCase]] {
        let groups: [() -> [TauRowCase?]] = [
            { smallerCounts(dimension).map { restricted(dimension: $0) } },
            { smallerCounts(timestep).map { replacing(timestep: $0) } },
            {
                Simplicity.vectorCandidates(noisy, perComponent: true).map { replacing(noisy: $0) }
                    + Simplicity.vectorCandidates(user, perComponent: true).map { replacing(user: $0) }
                    + Simplicity.vectorCandidates(target, perComponent: true).map { replacing(target: $0) }
            },
            {
                let flat = parameters.flattened
                return Simplicity.vectorCandidates(flat, perComponent: flat.count <= Simplicity.perComponentLimit)
                    .map { replacing(parameters: $0) }
            },
        ]
        return groups.map { group in { group().compactMap { $0 } } }
    }

    public var summary: String {
        var text = "d = \(dimension), t = \(timestep); x_t \(SwiftSource.array(noisy)), e_u \(SwiftSource.array(user)), "
            + "ε′ \(SwiftSource.array(target))"
        if parameters.flattened.count <= 32 { text += "; θ \(SwiftSource.array(parameters.flattened))" }
        return text + " (row #\(index))"
    }

    public var swiftExpression: String {
        """
        try TauRowCase(
            dimension: \(dimension),
            parameters: \(SwiftSource.array(parameters.flattened)),
            noisy: \(SwiftSource.array(noisy)), timestep: \(timestep),
            user: \(SwiftSource.array(user)),
            target: \(SwiftSource.array(target)))
        """
    }
}
