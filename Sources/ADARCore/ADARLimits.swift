/// The largest sizes adar accepts: the one place the library, the command line
/// and `adar port-server` take them from (docs/CLI.md "Limits"). Each is
/// checked before anything of that size is allocated, and refused with
/// `ADARError.limitExceeded`, never by a trap or an allocation failure.
public enum ADARLimits {
    /// `T`, diffusion steps. Published schedules use `T ≤ 1000` (DDPM) and
    /// DiffRec far fewer; 100× headroom keeps the four binary64 tables of S1
    /// under 4 MB and `adar schedule`'s table under 100,001 lines.
    public static let maxSteps = 100_000

    /// `d`, the embedding dimension. Recommenders use `d ≤ 1024`; 64× headroom,
    /// and one row of any input stays at 512 KiB in binary64.
    public static let maxDimension = 65_536

    /// `M`, pool candidates per row. Hard-negative samplers use tens to a few
    /// hundred; the pool index of S5 stays far inside `Int32`.
    public static let maxPoolSize = 65_536

    /// Values in one array of a batch: `B·d` (users, positives, ε, x⁻),
    /// `B·M·d` (a dense pool) and `B·M` (pool indices). 2²⁷ values are 1 GiB in
    /// binary64 (512 MiB in binary32), so no single array a call allocates or
    /// reads exceeds 1 GiB.
    public static let maxArrayCount = 1 << 27

    /// Bytes in one `adar port-server` request line. A line is parsed whole, and
    /// its JSON values take up to ~30× its size in memory: 16 MiB keeps that
    /// under 1 GiB, and holds a pool of about 800,000 reals, far beyond the
    /// fixtures' largest request (a few KiB).
    public static let maxRequestBytes = 16 << 20

    /// Refuses `actual > limit` as `field`'s limit.
    public static func check(_ field: String, _ actual: Int, atMost limit: Int) throws(ADARError) {
        guard actual <= limit else { throw .limitExceeded(field: field, limit: limit, actual: actual) }
    }

    /// Refuses a product of non-negative sizes above `maxArrayCount`, without
    /// overflowing: `field` names the product, e.g. `rows·M·d`.
    public static func checkArrayCount(_ field: String, _ factors: Int...) throws(ADARError) {
        var product = 1
        for factor in factors {
            let (next, overflow) = product.multipliedReportingOverflow(by: factor)
            product = overflow ? .max : next
        }
        try check(field, product, atMost: maxArrayCount)
    }
}
