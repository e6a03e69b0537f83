/// Where the Gaussian noise `ε` of S2/S6 comes from.
public enum NoiseInput: Equatable, Sendable {
    /// `ε` is the counter-based stream of S8; row `b` of the batch draws with
    /// global row index `rowOffset + b`.
    case counter(seed: UInt64, stream: UInt32, rowOffset: UInt64)
    /// `ε` supplied explicitly, row-major `B × d`.
    case explicit([Double])
}

/// One batch of dense ADAR inputs (spec S2, S3, S6), row-major, binary64.
///
/// Row `b` holds the user representation `e_u`, the positive item embedding
/// `x_0 = e_i`, and `M` pool candidates `e_{j_1} … e_{j_M}`.
public struct ADARBatch: Equatable, Sendable {
    public let rows: Int
    public let dimension: Int
    public let poolSize: Int
    /// `B × d`.
    public let users: [Double]
    /// `B × d`.
    public let positives: [Double]
    /// `B × M × d`.
    public let pool: [Double]
    public let noise: NoiseInput

    /// Checks sizes against `ADARLimits` (`d`, `M`, `B·M·d`; the largest array
    /// is the pool, so `B·d` follows), shapes, then finiteness row by row (S5: non-finite input is an
    /// error for the whole call). The first offending row is reported, and
    /// within it the first of user, positive, pool[m], epsilon: the order in
    /// which the optimised path meets them.
    public init(
        rows: Int, dimension: Int, poolSize: Int,
        users: [Double], positives: [Double], pool: [Double], noise: NoiseInput
    ) throws(ADARError) {
        guard rows >= 0 else { throw .shapeMismatch(field: "rows", expected: 0, actual: rows) }
        guard dimension >= 1 else { throw .shapeMismatch(field: "dimension", expected: 1, actual: dimension) }
        guard poolSize >= 1 else { throw .emptyPool }
        try ADARLimits.check("dimension", dimension, atMost: ADARLimits.maxDimension)
        try ADARLimits.check("poolSize", poolSize, atMost: ADARLimits.maxPoolSize)
        try ADARLimits.checkArrayCount("rows·M·d", rows, poolSize, dimension)
        var fields: [(name: String, values: [Double], width: Int)] = [
            ("user", users, dimension), ("positive", positives, dimension), ("pool", pool, poolSize * dimension),
        ]
        if case let .explicit(epsilon) = noise { fields.append(("epsilon", epsilon, dimension)) }
        for field in fields where field.values.count != rows * field.width {
            throw .shapeMismatch(field: field.name, expected: rows * field.width, actual: field.values.count)
        }
        for b in 0..<rows {
            for field in fields {
                let row = field.values[b * field.width ..< (b + 1) * field.width]
                guard let i = row.firstIndex(where: { !$0.isFinite }) else { continue }
                let offset = i - b * field.width
                throw field.name == "pool"
                    ? .nonFinite(row: b, field: "pool[\(offset / dimension)]", component: offset % dimension)
                    : .nonFinite(row: b, field: field.name, component: offset)
            }
        }
        self.rows = rows
        self.dimension = dimension
        self.poolSize = poolSize
        self.users = users
        self.positives = positives
        self.pool = pool
        self.noise = noise
    }

    public func user(_ b: Int) -> ArraySlice<Double> { users[b * dimension ..< (b + 1) * dimension] }
    public func positive(_ b: Int) -> ArraySlice<Double> { positives[b * dimension ..< (b + 1) * dimension] }
    public func candidate(_ b: Int, _ m: Int) -> ArraySlice<Double> {
        let start = (b * poolSize + m) * dimension
        return pool[start ..< start + dimension]
    }
}
