import ADARCore

/// Typed access to a request's `input` object (docs/PORTING.md §2), refusing
/// with `.malformed` (an `invalidInput` answer) when a field is missing or has
/// the wrong type. Reals accept `null` as NaN (docs/PORTING.md §1); the
/// operation then refuses it as S5 says.
public struct OperationInput: Sendable {
    public let value: JSONValue

    public init(_ value: JSONValue) { self.value = value }

    public func field(_ name: String) throws(EvaluationError) -> JSONValue {
        guard let field = value[name] else { throw .malformed(field: name, reason: "missing field \(name)") }
        return field
    }

    /// A real number; `null` is NaN (docs/PORTING.md §1).
    public func real(_ name: String) throws(EvaluationError) -> Double {
        guard let x = try field(name).doubleValue else { throw .malformed(field: name, reason: "\(name) must be a number") }
        return x
    }

    /// An integer; an integral real such as `1e3` is one too (JSON Schema), so
    /// `1e9` reaches the size checks while `1.5` or `1e20` is refused here.
    public func integer(_ name: String) throws(EvaluationError) -> Int {
        let field = try field(name)
        guard let i = field.intValue else {
            throw .malformed(field: name, reason: "\(name) must be an integer with |\(name)| < 2⁵³ (got \(field.rendered.prefix(40)))")
        }
        return i
    }

    public func string(_ name: String) throws(EvaluationError) -> String {
        guard let s = try field(name).stringValue else { throw .malformed(field: name, reason: "\(name) must be a string") }
        return s
    }

    public func reals(_ name: String) throws(EvaluationError) -> [Double] {
        try Self.reals(try field(name), name)
    }

    /// `[M][d]`, flattened row-major; every row must have `d` values.
    public func matrix(_ name: String, columns d: Int) throws(EvaluationError) -> (rows: Int, values: [Double]) {
        guard let rows = try field(name).arrayValue else { throw .malformed(field: name, reason: "\(name) must be an array of arrays") }
        var values = [Double]()
        for (m, row) in rows.enumerated() {
            let items = try Self.reals(row, "\(name)[\(m)]")
            guard items.count == d else { throw .refused(.shapeMismatch(field: "\(name)[\(m)]", expected: d, actual: items.count)) }
            values += items
        }
        return (rows.count, values)
    }

    /// An unsigned 64-bit integer written as a decimal string (docs/PORTING.md §1).
    public func unsigned64(_ name: String) throws(EvaluationError) -> UInt64 {
        let field = try field(name)
        if let text = field.stringValue, let value = UInt64(text) { return value }
        if let i = field.intValue, i >= 0 { return UInt64(i) }
        throw .malformed(field: name, reason: "\(name) must be an unsigned 64-bit integer as a decimal string")
    }

    public func unsigned32s(_ name: String, count: Int) throws(EvaluationError) -> [UInt32] {
        guard let items = try field(name).arrayValue, items.count == count else {
            throw .malformed(field: name, reason: "\(name) must hold \(count) unsigned 32-bit integers")
        }
        var words = [UInt32]()
        for item in items {
            guard let i = item.intValue, let word = UInt32(exactly: i) else {
                throw .malformed(field: name, reason: "\(name) must hold unsigned 32-bit integers")
            }
            words.append(word)
        }
        return words
    }

    public func object(_ name: String) throws(EvaluationError) -> OperationInput {
        let field = try field(name)
        guard field.objectFields != nil else { throw .malformed(field: name, reason: "\(name) must be an object") }
        return OperationInput(field)
    }

    func optionalReal(_ name: String, default fallback: Double) throws(EvaluationError) -> Double {
        value[name] == nil ? fallback : try real(name)
    }

    private static func reals(_ value: JSONValue, _ name: String) throws(EvaluationError) -> [Double] {
        guard let items = value.arrayValue else { throw .malformed(field: name, reason: "\(name) must be an array of numbers") }
        var out = [Double]()
        out.reserveCapacity(items.count)
        for item in items {
            guard let x = item.doubleValue else { throw .malformed(field: name, reason: "\(name) must be an array of numbers") }
            out.append(x)
        }
        return out
    }

    // MARK: Shared vocabulary

    /// The request's `schedule` object `{"kind": …, "steps": T, …}` (docs/PORTING.md §2)
    /// as an S1 schedule kind and its T.
    public func scheduleKind() throws(EvaluationError) -> (kind: ScheduleKind, steps: Int) {
        let schedule = try object("schedule")
        let name = try schedule.string("kind")
        let kind: ScheduleKind
        switch name {
        case "linear": kind = .linear(start: try schedule.real("start"), end: try schedule.real("end"))
        case "ddpm-linear": kind = .ddpmLinear
        case "scaled-linear": kind = .scaledLinear(start: try schedule.real("start"), end: try schedule.real("end"))
        case "cosine":
            kind = .cosine(s: try schedule.optionalReal("s", default: 0.008), maxBeta: try schedule.optionalReal("maxBeta", default: 0.999))
        case "linear-variance":
            kind = .linearVariance(
                scale: try schedule.real("scale"), min: try schedule.real("min"), max: try schedule.real("max"),
                maxBeta: try schedule.optionalReal("maxBeta", default: 0.999))
        case "custom":
            let betas = try schedule.reals("betas")
            return (.custom(betas: betas), schedule.value["steps"] == nil ? betas.count : try schedule.integer("steps"))
        default: throw .malformed(field: "schedule.kind", reason: "unknown schedule kind \(name)")
        }
        return (kind, try schedule.integer("steps"))
    }

    /// The request's `schedule`, validated (S1).
    public func schedule() throws(EvaluationError) -> NoiseSchedule {
        let (kind, steps) = try scheduleKind()
        do { return try NoiseSchedule(kind, steps: steps) } catch { throw .refused(error) }
    }

    public func timestep(_ name: String, in schedule: NoiseSchedule) throws(EvaluationError) -> Int {
        let t = try integer(name)
        guard (0...schedule.steps).contains(t) else {
            throw .malformed(field: name, reason: "\(name) = \(t) is outside 0…\(schedule.steps)")
        }
        return t
    }

    public func policy() throws(EvaluationError) -> ReferencePolicy {
        try named("policy", ReferencePolicy.init(rawValue:), "policy")
    }

    public func status() throws(EvaluationError) -> RowStatus {
        try named("status", RowStatus.init(rawValue:), "status")
    }

    public func fallback() throws(EvaluationError) -> FallbackMode {
        try named("fallback", FallbackMode.init(rawValue:), "fallback")
    }

    public func gradientFlow() throws(EvaluationError) -> GradientFlow {
        try named("gradientFlow", GradientFlow.init(rawValue:), "gradient flow")
    }

    /// A string field naming a case of `T`.
    private func named<T>(_ name: String, _ make: (String) -> T?, _ what: String) throws(EvaluationError) -> T {
        let text = try string(name)
        guard let value = make(text) else { throw .malformed(field: name, reason: "unknown \(what) \(text)") }
        return value
    }
}
