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

    /// Checks shapes and finiteness (S5: non-finite input is an error for the
    /// whole call, naming the row and field).
    public init(
        rows: Int, dimension: Int, poolSize: Int,
        users: [Double], positives: [Double], pool: [Double], noise: NoiseInput
    ) throws(ADARError) {
        guard rows >= 0 else { throw .shapeMismatch(field: "rows", expected: 0, actual: rows) }
        guard dimension >= 1 else { throw .shapeMismatch(field: "dimension", expected: 1, actual: dimension) }
        guard poolSize >= 1 else { throw .emptyPool }
        try Self.check(users, field: "user", rows: rows, width: dimension)
        try Self.check(positives, field: "positive", rows: rows, width: dimension)
        try Self.checkPool(pool, rows: rows, poolSize: poolSize, dimension: dimension)
        if case let .explicit(epsilon) = noise {
            try Self.check(epsilon, field: "epsilon", rows: rows, width: dimension)
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

    private static func check(_ values: [Double], field: String, rows: Int, width: Int) throws(ADARError) {
        guard values.count == rows * width else {
            throw .shapeMismatch(field: field, expected: rows * width, actual: values.count)
        }
        if let i = values.firstIndex(where: { !$0.isFinite }) {
            throw .nonFinite(row: i / width, field: field, component: i % width)
        }
    }

    private static func checkPool(_ values: [Double], rows: Int, poolSize: Int, dimension: Int) throws(ADARError) {
        guard values.count == rows * poolSize * dimension else {
            throw .shapeMismatch(field: "pool", expected: rows * poolSize * dimension, actual: values.count)
        }
        if let i = values.firstIndex(where: { !$0.isFinite }) {
            let row = i / (poolSize * dimension), m = (i / dimension) % poolSize
            throw .nonFinite(row: row, field: "pool[\(m)]", component: i % dimension)
        }
    }
}
