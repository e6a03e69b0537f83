import Foundation

extension ReferenceADAR {
    /// S9: the timestep encoding `PE(t)`, `d` values in binary64:
    /// `PE(t)_k = sin(t·exp(−(k − k mod 2)/d·ln 10⁴))` for even `k`, `cos` of the
    /// same argument for odd `k` (real division; Proofs/S9-tau.md, S9/P1).
    public static func positionalEncoding(timestep t: Int, dimension d: Int) -> [Double] {
        precondition(d >= 1 && t >= 0)
        var encoding = [Double]()
        encoding.reserveCapacity(d)
        for k in 0..<d {
            let argument = Double(t) * exp(-Double(k - k % 2) / Double(d) * log(10_000.0))
            encoding.append(k % 2 == 0 ? sin(argument) : cos(argument))
        }
        return encoding
    }
}
