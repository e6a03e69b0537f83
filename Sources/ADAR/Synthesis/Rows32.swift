import ADARCore

/// Dense binary32 inputs, row-major: users `B × d`, positives `B × d`,
/// pool `B × M × d` (spec S2, S3); sizes within `ADARLimits`.
public struct DenseRows32: Sendable {
    public let rows: Int, dimension: Int, poolSize: Int
    public let users: [Float], positives: [Float], pool: [Float]

    public init(rows: Int, dimension: Int, poolSize: Int, users: [Float], positives: [Float], pool: [Float]) throws(ADARError) {
        guard rows >= 0 else { throw .shapeMismatch(field: "rows", expected: 0, actual: rows) }
        guard dimension >= 1 else { throw .shapeMismatch(field: "dimension", expected: 1, actual: dimension) }
        guard poolSize >= 1 else { throw .emptyPool }
        try ADARLimits.check("dimension", dimension, atMost: ADARLimits.maxDimension)
        try ADARLimits.check("poolSize", poolSize, atMost: ADARLimits.maxPoolSize)
        try ADARLimits.checkArrayCount("rows·M·d", rows, poolSize, dimension)
        for (field, values, width) in [("user", users, dimension), ("positive", positives, dimension), ("pool", pool, poolSize * dimension)]
        where values.count != rows * width {
            throw .shapeMismatch(field: field, expected: rows * width, actual: values.count)
        }
        self.rows = rows
        self.dimension = dimension
        self.poolSize = poolSize
        self.users = users
        self.positives = positives
        self.pool = pool
    }
}

/// The training form: embedding tables and, per row, the user, the positive
/// item and `M` candidate items as indices. Rows are gathered from the tables
/// as they are processed; no `B × M × d` tensor is materialised.
public struct IndexedRows32: Sendable {
    public let dimension: Int, poolSize: Int
    /// `U × d` and `I × d`, row-major.
    public let userTable: [Float], itemTable: [Float]
    /// `B` user indices, `B` positive item indices, `B × M` candidate item indices.
    public let users: [Int32], positives: [Int32], pool: [Int32]

    public var rows: Int { users.count }

    public init(
        dimension: Int, poolSize: Int, userTable: [Float], itemTable: [Float],
        users: [Int32], positives: [Int32], pool: [Int32]
    ) throws(ADARError) {
        guard dimension >= 1 else { throw .shapeMismatch(field: "dimension", expected: 1, actual: dimension) }
        guard poolSize >= 1 else { throw .emptyPool }
        try ADARLimits.check("dimension", dimension, atMost: ADARLimits.maxDimension)
        try ADARLimits.check("poolSize", poolSize, atMost: ADARLimits.maxPoolSize)
        // The outputs hold `B·d` values (x⁻) and the pool indices `B·M`.
        try ADARLimits.checkArrayCount("rows·d", users.count, dimension)
        try ADARLimits.checkArrayCount("rows·M", users.count, poolSize)
        guard userTable.count % dimension == 0 else {
            throw .shapeMismatch(field: "userTable", expected: userTable.count / dimension * dimension, actual: userTable.count)
        }
        guard itemTable.count % dimension == 0 else {
            throw .shapeMismatch(field: "itemTable", expected: itemTable.count / dimension * dimension, actual: itemTable.count)
        }
        guard positives.count == users.count else {
            throw .shapeMismatch(field: "positive", expected: users.count, actual: positives.count)
        }
        guard pool.count == users.count * poolSize else {
            throw .shapeMismatch(field: "pool", expected: users.count * poolSize, actual: pool.count)
        }
        let userCount = userTable.count / dimension, itemCount = itemTable.count / dimension
        for (b, u) in users.enumerated() where u < 0 || Int(u) >= userCount {
            throw .indexOutOfRange(row: b, field: "user", index: Int(u), count: userCount)
        }
        for (b, i) in positives.enumerated() where i < 0 || Int(i) >= itemCount {
            throw .indexOutOfRange(row: b, field: "positive", index: Int(i), count: itemCount)
        }
        for (k, j) in pool.enumerated() where j < 0 || Int(j) >= itemCount {
            throw .indexOutOfRange(row: k / poolSize, field: "pool[\(k % poolSize)]", index: Int(j), count: itemCount)
        }
        self.dimension = dimension
        self.poolSize = poolSize
        self.userTable = userTable
        self.itemTable = itemTable
        self.users = users
        self.positives = positives
        self.pool = pool
    }
}

/// Where row `b`'s vectors live, for either input form: a base pointer and,
/// for the training form, an index array.
@usableFromInline
struct RowAccess: @unchecked Sendable {
    @usableFromInline let dimension: Int, poolSize: Int
    @usableFromInline let users: UnsafePointer<Float>, userIndex: UnsafePointer<Int32>?
    @usableFromInline let positives: UnsafePointer<Float>, positiveIndex: UnsafePointer<Int32>?
    @usableFromInline let pool: UnsafePointer<Float>, poolIndex: UnsafePointer<Int32>?

    @inlinable @inline(__always)
    func user(_ b: Int) -> UnsafePointer<Float> {
        users + (userIndex.map { Int($0[b]) } ?? b) * dimension
    }

    @inlinable @inline(__always)
    func positive(_ b: Int) -> UnsafePointer<Float> {
        positives + (positiveIndex.map { Int($0[b]) } ?? b) * dimension
    }

    @inlinable @inline(__always)
    func candidate(_ b: Int, _ m: Int) -> UnsafePointer<Float> {
        let slot = b * poolSize + m
        return pool + (poolIndex.map { Int($0[slot]) } ?? slot) * dimension
    }
}

/// Software prefetch of the rows to come. In the training form a row reads
/// `M + 2` vectors at random places of tables larger than L2, and waiting
/// for them one after the other dominated the row's time; asking for row
/// `b + 1`'s vectors while row `b` computes overlaps those misses with work.
extension RowAccess {
    /// Calls `body` on each row of `rows` in order, prefetching the user,
    /// the positive and the first `candidates` pool vectors of the next row
    /// first. For passes that read few vectors per row (the loss).
    @inline(__always)
    func visit(_ rows: Range<Int>, candidates: Int, _ body: (Int) -> Void) {
        if let first = rows.first { prefetch(first, candidates: 0 ..< candidates) }
        for b in rows {
            if b + 1 < rows.upperBound { prefetch(b + 1, candidates: 0 ..< candidates) }
            body(b)
        }
    }

    /// Prefetches row `b`'s user and positive, and its pool vectors `candidates`.
    @inline(__always)
    func prefetch(_ b: Int, candidates: Range<Int>) {
        Prefetch.floats(user(b), count: dimension)
        Prefetch.floats(positive(b), count: dimension)
        for m in candidates { Prefetch.floats(candidate(b, m), count: dimension) }
    }
}

extension DenseRows32 {
    func withAccess<R>(_ body: (RowAccess) throws(ADARError) -> R) throws(ADARError) -> R {
        try users.withUnsafeBufferPointer { (u) throws(ADARError) -> R in
            try positives.withUnsafeBufferPointer { (x) throws(ADARError) -> R in
                try pool.withUnsafeBufferPointer { (p) throws(ADARError) -> R in
                    try body(RowAccess(
                        dimension: dimension, poolSize: poolSize,
                        users: u.baseAddress ?? placeholder, userIndex: nil,
                        positives: x.baseAddress ?? placeholder, positiveIndex: nil,
                        pool: p.baseAddress ?? placeholder, poolIndex: nil))
                }
            }
        }
    }
}

extension IndexedRows32 {
    func withAccess<R>(_ body: (RowAccess) throws(ADARError) -> R) throws(ADARError) -> R {
        try userTable.withUnsafeBufferPointer { (u) throws(ADARError) -> R in
            try itemTable.withUnsafeBufferPointer { (items) throws(ADARError) -> R in
                try users.withUnsafeBufferPointer { (ui) throws(ADARError) -> R in
                    try positives.withUnsafeBufferPointer { (xi) throws(ADARError) -> R in
                        try pool.withUnsafeBufferPointer { (pi) throws(ADARError) -> R in
                            try body(RowAccess(
                                dimension: dimension, poolSize: poolSize,
                                users: u.baseAddress ?? placeholder, userIndex: ui.baseAddress ?? placeholderIndex,
                                positives: items.baseAddress ?? placeholder, positiveIndex: xi.baseAddress ?? placeholderIndex,
                                pool: items.baseAddress ?? placeholder, poolIndex: pi.baseAddress ?? placeholderIndex))
                        }
                    }
                }
            }
        }
    }
}

/// Stands in for the base address of an empty array (never dereferenced: an
/// empty input has no rows).
nonisolated(unsafe) private let placeholder = UnsafePointer<Float>(UnsafeMutablePointer<Float>.allocate(capacity: 1))
nonisolated(unsafe) private let placeholderIndex = UnsafePointer<Int32>(UnsafeMutablePointer<Int32>.allocate(capacity: 1))
