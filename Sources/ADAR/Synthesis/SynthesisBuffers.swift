import ADARCore

/// Caller-owned outputs of `ADARSynthesizer` (spec S6), reused across calls:
/// memory is allocated only when a call needs more rows or a larger `d`
/// than any call before, never in the per-row loop.
///
/// After a call that throws, `rows` is 0: nothing partial is exposed.
public final class SynthesisBuffers: @unchecked Sendable {
    public private(set) var rows = 0
    public private(set) var dimension = 0
    private var capacityRows = 0, capacityValues = 0

    @usableFromInline var status = UnsafeMutablePointer<RowStatus>.allocate(capacity: 0)
    @usableFromInline var timestep = UnsafeMutablePointer<Int32>.allocate(capacity: 0)
    @usableFromInline var aStar = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    @usableFromInline var retention = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    @usableFromInline var positiveScore = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    @usableFromInline var referenceNegativeScore = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    @usableFromInline var syntheticScore = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    @usableFromInline var hardestCandidate = UnsafeMutablePointer<Int32>.allocate(capacity: 0)
    @usableFromInline var syntheticNegative = UnsafeMutablePointer<Float>.allocate(capacity: 0)
    @usableFromInline var forwardFallback = UnsafeMutablePointer<Bool>.allocate(capacity: 0)

    public init() {}

    deinit { release() }

    public var statuses: UnsafeBufferPointer<RowStatus> { .init(start: status, count: rows) }
    public var timesteps: UnsafeBufferPointer<Int32> { .init(start: timestep, count: rows) }
    /// `a*`, NaN where undefined.
    public var aStars: UnsafeBufferPointer<Float> { .init(start: aStar, count: rows) }
    /// `π` at the chosen step; NaN on fallback rows.
    public var retentions: UnsafeBufferPointer<Float> { .init(start: retention, count: rows) }
    public var positiveScores: UnsafeBufferPointer<Float> { .init(start: positiveScore, count: rows) }
    public var referenceNegativeScores: UnsafeBufferPointer<Float> { .init(start: referenceNegativeScore, count: rows) }
    public var syntheticScores: UnsafeBufferPointer<Float> { .init(start: syntheticScore, count: rows) }
    public var hardestCandidates: UnsafeBufferPointer<Int32> { .init(start: hardestCandidate, count: rows) }
    /// `x⁻`, `rows × dimension`, row-major.
    public var syntheticNegatives: UnsafeBufferPointer<Float> { .init(start: syntheticNegative, count: rows * dimension) }

    /// Under `denoised` (S9), true on the rows with `r_t > r_max`, which used
    /// `forward`; false everywhere else.
    public var forwardFallbacks: UnsafeBufferPointer<Bool> { .init(start: forwardFallback, count: rows) }
    /// The number of `forwardFallbacks` (S9: counted separately).
    public var forwardFallbackCount: Int { forwardFallbacks.reduce(0) { $0 + ($1 ? 1 : 0) } }

    /// Whether the call that filled the buffers used the `denoised` generator.
    public private(set) var usedDenoiser = false

    /// True where `x⁻` is τ's `x̂_0`: under `denoised`, on `transition`/`saturated`
    /// rows the `r_max` guard kept (S9). The loss's `through` flow depends on it.
    @inline(__always)
    public func isDenoised(_ b: Int) -> Bool {
        precondition(b >= 0 && b < rows)
        return usedDenoiser && !status[b].isFallback && !forwardFallback[b]
    }

    /// The number of rows whose `x⁻` is τ's `x̂_0`.
    public var denoisedRowCount: Int { (0..<rows).reduce(0) { $0 + (isDenoised($1) ? 1 : 0) } }

    /// Row `b` of `x⁻`.
    public func syntheticNegative(_ b: Int) -> UnsafeBufferPointer<Float> {
        precondition(b >= 0 && b < rows)
        return .init(start: syntheticNegative + b * dimension, count: dimension)
    }

    func prepare(rows: Int, dimension: Int) {
        if rows > capacityRows || rows * dimension > capacityValues {
            release()
            capacityRows = max(rows, capacityRows)
            capacityValues = max(rows * dimension, capacityValues)
            status = .allocate(capacity: capacityRows)
            status.initialize(repeating: .transition, count: capacityRows)
            timestep = .allocate(capacity: capacityRows)
            aStar = .allocate(capacity: capacityRows)
            retention = .allocate(capacity: capacityRows)
            positiveScore = .allocate(capacity: capacityRows)
            referenceNegativeScore = .allocate(capacity: capacityRows)
            syntheticScore = .allocate(capacity: capacityRows)
            hardestCandidate = .allocate(capacity: capacityRows)
            syntheticNegative = .allocate(capacity: capacityValues)
            forwardFallback = .allocate(capacity: capacityRows)
            forwardFallback.initialize(repeating: false, count: capacityRows)
        }
        self.rows = 0
        self.dimension = dimension
        usedDenoiser = false
    }

    func commit(rows: Int, usedDenoiser: Bool) {
        self.rows = rows
        self.usedDenoiser = usedDenoiser
    }

    private func release() {
        status.deallocate(); timestep.deallocate(); aStar.deallocate(); retention.deallocate()
        positiveScore.deallocate(); referenceNegativeScore.deallocate(); syntheticScore.deallocate()
        hardestCandidate.deallocate(); syntheticNegative.deallocate(); forwardFallback.deallocate()
    }
}
