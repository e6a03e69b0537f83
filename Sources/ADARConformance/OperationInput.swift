import ADARCore

/// A port's refusal of an input: the `error` object of a protocol response
/// (docs/PORTING.md §3). `kind` is an `ADARError` case name, or `invalidInput`
/// for a request that does not have the shape of its operation.
public struct PortRefusal: Error, Equatable, Sendable {
    public var kind: String
    public var field: String
    public var message: String

    public init(kind: String, field: String, message: String) {
        self.kind = kind
        self.field = field
        self.message = message
    }

    public init(_ error: ADARError) {
        let (kind, field): (String, String) = switch error {
        case let .nonFinite(_, field, _): ("nonFinite", field)
        case let .overflow(_, field): ("overflow", field)
        case let .shapeMismatch(field, _, _): ("shapeMismatch", field)
        case let .invalidSchedule(parameter, _): ("invalidSchedule", parameter)
        case let .invalidConfiguration(field, _): ("invalidConfiguration", field)
        case let .indexOutOfRange(_, field, _, _): ("indexOutOfRange", field)
        case .emptyPool: ("emptyPool", "pool")
        }
        self.init(kind: kind, field: field, message: error.description)
    }

    static func invalid(_ field: String, _ message: String) -> PortRefusal {
        PortRefusal(kind: "invalidInput", field: field, message: message)
    }

    public var json: JSONValue {
        .object([("kind", .string(kind)), ("field", .string(field)), ("message", .string(message))])
    }
}

/// Typed access to a request's `input` object (docs/PORTING.md §2), refusing
/// with `invalidInput` when a field is missing or has the wrong type.
struct OperationInput {
    let value: JSONValue

    func field(_ name: String) throws(PortRefusal) -> JSONValue {
        guard let field = value[name] else { throw .invalid(name, "missing field \(name)") }
        return field
    }

    /// A real number; `null` is NaN (docs/PORTING.md §1).
    func real(_ name: String) throws(PortRefusal) -> Double {
        guard let x = try field(name).double else { throw .invalid(name, "\(name) must be a number") }
        return x
    }

    func integer(_ name: String) throws(PortRefusal) -> Int {
        guard let i = try field(name).int else { throw .invalid(name, "\(name) must be an integer") }
        return i
    }

    func string(_ name: String) throws(PortRefusal) -> String {
        guard let s = try field(name).string else { throw .invalid(name, "\(name) must be a string") }
        return s
    }

    func reals(_ name: String) throws(PortRefusal) -> [Double] {
        try Self.reals(try field(name), name)
    }

    /// `[M][d]`, flattened row-major; every row must have `d` values.
    func matrix(_ name: String, columns d: Int) throws(PortRefusal) -> (rows: Int, values: [Double]) {
        guard let rows = try field(name).arrayItems else { throw .invalid(name, "\(name) must be an array of arrays") }
        var values = [Double]()
        for (m, row) in rows.enumerated() {
            let items = try Self.reals(row, "\(name)[\(m)]")
            guard items.count == d else {
                throw PortRefusal(ADARError.shapeMismatch(field: "\(name)[\(m)]", expected: d, actual: items.count))
            }
            values += items
        }
        return (rows.count, values)
    }

    /// An unsigned 64-bit integer written as a decimal string (docs/PORTING.md §1).
    func unsigned64(_ name: String) throws(PortRefusal) -> UInt64 {
        let field = try field(name)
        if let text = field.string, let value = UInt64(text) { return value }
        if let i = field.int, i >= 0 { return UInt64(i) }
        throw .invalid(name, "\(name) must be an unsigned 64-bit integer as a decimal string")
    }

    func unsigned32s(_ name: String, count: Int) throws(PortRefusal) -> [UInt32] {
        guard let items = try field(name).arrayItems, items.count == count else {
            throw .invalid(name, "\(name) must hold \(count) unsigned 32-bit integers")
        }
        var words = [UInt32]()
        for item in items {
            guard let i = item.int, let word = UInt32(exactly: i) else {
                throw .invalid(name, "\(name) must hold unsigned 32-bit integers")
            }
            words.append(word)
        }
        return words
    }

    func object(_ name: String) throws(PortRefusal) -> OperationInput {
        let field = try field(name)
        guard field.objectFields != nil else { throw .invalid(name, "\(name) must be an object") }
        return OperationInput(value: field)
    }

    func optionalReal(_ name: String, default fallback: Double) throws(PortRefusal) -> Double {
        value[name] == nil ? fallback : try real(name)
    }

    private static func reals(_ value: JSONValue, _ name: String) throws(PortRefusal) -> [Double] {
        guard let items = value.arrayItems else { throw .invalid(name, "\(name) must be an array of numbers") }
        var out = [Double]()
        out.reserveCapacity(items.count)
        for item in items {
            guard let x = item.double else { throw .invalid(name, "\(name) must be an array of numbers") }
            out.append(x)
        }
        return out
    }

    // MARK: Shared vocabulary

    /// `{"kind": …, "steps": T, …}` (docs/PORTING.md §2) as an S1 schedule kind.
    func scheduleKind() throws(PortRefusal) -> (kind: ScheduleKind, steps: Int) {
        let schedule = try object("schedule")
        let name = try schedule.string("kind")
        let kind: ScheduleKind
        switch name {
        case "linear": kind = .linear(start: try schedule.real("start"), end: try schedule.real("end"))
        case "ddpm-linear": kind = .ddpmLinear
        case "scaled-linear": kind = .scaledLinear(start: try schedule.real("start"), end: try schedule.real("end"))
        case "cosine":
            kind = .cosine(
                s: try schedule.optionalReal("s", default: 0.008),
                maxBeta: try schedule.optionalReal("maxBeta", default: 0.999))
        case "linear-variance":
            kind = .linearVariance(
                scale: try schedule.real("scale"), min: try schedule.real("min"), max: try schedule.real("max"),
                maxBeta: try schedule.optionalReal("maxBeta", default: 0.999))
        case "custom":
            let betas = try schedule.reals("betas")
            return (.custom(betas: betas), schedule.value["steps"] == nil ? betas.count : try schedule.integer("steps"))
        default: throw .invalid("schedule.kind", "unknown schedule kind \(name)")
        }
        return (kind, try schedule.integer("steps"))
    }

    func schedule() throws(PortRefusal) -> NoiseSchedule {
        let (kind, steps) = try scheduleKind()
        do { return try NoiseSchedule(kind, steps: steps) } catch { throw PortRefusal(error) }
    }

    func timestep(_ name: String, in schedule: NoiseSchedule) throws(PortRefusal) -> Int {
        let t = try integer(name)
        guard (0...schedule.steps).contains(t) else { throw .invalid(name, "\(name) = \(t) is outside 0…\(schedule.steps)") }
        return t
    }

    func policy() throws(PortRefusal) -> ReferencePolicy {
        let name = try string("policy")
        guard let policy = ReferencePolicy(rawValue: name) else { throw .invalid("policy", "unknown policy \(name)") }
        return policy
    }

    func status() throws(PortRefusal) -> RowStatus {
        let name = try string("status")
        guard let status = RowStatus(rawValue: name) else { throw .invalid("status", "unknown status \(name)") }
        return status
    }

    func fallback() throws(PortRefusal) -> FallbackMode {
        let name = try string("fallback")
        guard let mode = FallbackMode(rawValue: name) else { throw .invalid("fallback", "unknown fallback \(name)") }
        return mode
    }

    func gradientFlow() throws(PortRefusal) -> GradientFlow {
        let name = try string("gradientFlow")
        guard let flow = GradientFlow(rawValue: name) else { throw .invalid("gradientFlow", "unknown gradient flow \(name)") }
        return flow
    }
}

/// Turns a typed-throws ADAR call into a refusal.
func refusing<T>(_ body: () throws(ADARError) -> T) throws(PortRefusal) -> T {
    do { return try body() } catch { throw PortRefusal(error) }
}
