import ADARCore

/// SASRec's input layer: row `(s, p)` of the batch is `√d·E[i] + P[p]` for
/// item `i = items[s·L + p] ≠ 0`, and zero for padding (`i = 0`).
///
/// `E` is the item table (`(items + 1) × d`; row 0 is zero and never trains:
/// its gradient is dropped). `P` holds one learned row per slot `p = 0…L−1`;
/// padding slots take none (the reference's positions `1…L` with
/// `padding_idx = 0`). `√d` is formed in binary64 and rounded once.
public struct Embedding: Sendable {
    public let items: Int
    public let dimension: Int
    public let length: Int
    /// Offsets of `E` and `P` in the model's flat parameter array.
    public let itemTable: Int
    public let positionTable: Int

    public init(items: Int, dimension: Int, length: Int, at offset: Int) {
        self.items = items
        self.dimension = dimension
        self.length = length
        itemTable = offset
        positionTable = offset + (items + 1) * dimension
    }

    public var parameterCount: Int { (items + 1 + length) * dimension }

    @_specialize(where S == Float)
    func inputScale<S: LayerScalar>(_: S.Type = S.self) -> S {
        LayerMutation.active == .embeddingWithoutScale ? 1 : S(Double(dimension).squareRoot())
    }

    /// `x` (`rows × d`, `rows = B·L`) from the item ids.
    @_specialize(where S == Float)
    func forward<S: LayerScalar>(
        _ ids: UnsafePointer<Int32>, rows: Int, parameters p: UnsafePointer<S>, into x: UnsafeMutablePointer<S>
    ) {
        let d = dimension, scale: S = inputScale()
        for r in 0..<rows {
            let out = x + r * d, item = Int(ids[r])
            guard item != 0 else {
                out.update(repeating: 0, count: d)
                continue
            }
            let e = p + itemTable + item * d, position = p + positionTable + (r % length) * d
            for k in 0..<d { out[k] = scale * e[k] + position[k] }
        }
    }

    /// Adds `√d·dx` to `dE[i]` and `dx` to `dP[p]` for every non-padding row,
    /// in row order (padding rows' gradients are dropped).
    @_specialize(where S == Float)
    func backward<S: LayerScalar>(
        _ ids: UnsafePointer<Int32>, inputGradient dx: UnsafePointer<S>, rows: Int, gradient g: UnsafeMutablePointer<S>
    ) {
        let d = dimension, scale = S(Double(dimension).squareRoot())
        for r in 0..<rows {
            let item = Int(ids[r])
            guard item != 0 else { continue }
            let row = dx + r * d, e = g + itemTable + item * d, position = g + positionTable + (r % length) * d
            for k in 0..<d {
                e[k] += scale * row[k]
                position[k] += row[k]
            }
        }
    }
}
