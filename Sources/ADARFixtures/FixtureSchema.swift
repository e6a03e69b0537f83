import ADARCore
import ADARProtocol

/// The JSON Schema (draft 2020-12) of each fixture file, written to
/// fixtures/schema/ beside the fixtures so ports can validate them with their
/// own tools. `adar fixtures lint` checks the same structure directly.
public enum FixtureSchema {
    static func object(_ properties: [(String, JSONValue)], required: [String], additional: Bool = false) -> JSONValue {
        .object([("type", .string("object")), ("properties", .object(properties)),
                 ("required", .array(required.map(JSONValue.string))), ("additionalProperties", .bool(additional))])
    }
    static func type(_ name: String) -> JSONValue { .object([("type", .string(name))]) }
    static func array(of items: JSONValue) -> JSONValue { .object([("type", .string("array")), ("items", items)]) }
    static func oneOf(_ items: [JSONValue]) -> JSONValue { items.count == 1 ? items[0] : .object([("oneOf", .array(items))]) }
    static func enumeration(_ values: [String]) -> JSONValue { .object([("enum", .array(values.map(JSONValue.string)))]) }
    static func constant(_ value: String) -> JSONValue { .object([("const", .string(value))]) }
    /// A real: a number, or null for NaN (PORTING.md §1).
    static let real = JSONValue.object([("type", .array([.string("number"), .string("null")]))])
    static let reals = array(of: real)
    static let objectAnyFields = JSONValue.object([("type", .string("object"))])

    static let word32 = JSONValue.object([("type", .string("integer")), ("minimum", .integer(0)), ("maximum", .integer(4_294_967_295))])

    /// The JSON Schema of a field kind (`FieldKind`, shared with the linter).
    static func schema(_ kind: FieldKind) -> JSONValue {
        switch kind {
        case .real: real
        case .reals: reals
        case .realMatrix: array(of: reals)
        case .integer: type("integer")
        case .integers: array(of: type("integer"))
        case .words32: array(of: word32)
        case .unsigned64: type("string")
        case let .name(values): enumeration(values)
        case .schedule:
            object([("kind", enumeration(FieldKind.scheduleParameters.map(\.kind))), ("steps", type("integer"))],
                   required: ["kind", "steps"], additional: true)
        case let .object(fields): object(fields.map { ($0.0, schema($0.1)) }, required: fields.map(\.0))
        }
    }

    static func outputSchema(_ operation: FixtureOperation) -> JSONValue {
        object(operation.outputFields.map { ($0, schema(.output($0))) }, required: operation.outputFields)
    }

    static func inputSchema(_ operation: FixtureOperation, strict: Bool) -> JSONValue {
        strict ? object(operation.inputFields.map { ($0, schema(.input($0, of: operation))) }, required: operation.inputFields) : objectAnyFields
    }

    static func testSchema(_ operation: FixtureOperation, invalid: Bool) -> JSONValue {
        let common: [(String, JSONValue)] = [
            ("tcId", .object([("type", .string("integer")), ("minimum", .integer(1))])),
            ("comment", type("string")), ("flags", array(of: type("string"))),
        ]
        if invalid {
            let error = object([("kind", enumeration(ADARError.kinds)), ("field", type("string"))], required: ["kind", "field"])
            return object(common + [("input", inputSchema(operation, strict: false)),
                                    ("expected", object([("error", error)], required: ["error"])),
                                    ("result", constant("invalid"))],
                          required: ["tcId", "comment", "flags", "input", "expected", "result"])
        }
        return object(common + [("input", inputSchema(operation, strict: true)), ("expected", outputSchema(operation)),
                                ("alternatives", .object([("type", .string("array")), ("items", outputSchema(operation)), ("minItems", .integer(1))])),
                                ("result", enumeration(["valid", "acceptable"]))],
                      required: ["tcId", "comment", "flags", "input", "expected", "result"])
    }

    static func groupSchema(_ operation: FixtureOperation, invalid: Bool) -> JSONValue {
        let tolerance = object([("relative", .object([("type", .string("number")), ("minimum", .integer(0))])),
                                ("absolute", .object([("type", .string("number")), ("minimum", .integer(0))])),
                                ("fieldAbsolute", .object([("type", .string("object")),
                                                           ("additionalProperties", .object([("type", .string("number")), ("minimum", .integer(0))]))]))],
                               required: ["relative", "absolute"])
        return object([("type", type("string")), ("operation", constant(operation.rawValue)),
                       ("precision", enumeration(Precision.allCases.map(\.rawValue))), ("tolerance", tolerance),
                       ("tests", array(of: testSchema(operation, invalid: invalid)))],
                      required: ["type", "operation", "precision", "tolerance", "tests"])
    }

    /// The schema of the file with `topic` whose groups cover `operations`.
    public static func schema(fileName: String, topic: String, operations: [FixtureOperation]) -> JSONValue {
        let invalid = topic == "invalid"
        let note = object([("bugType", enumeration(FixtureFormat.bugTypes)), ("description", type("string")), ("effect", type("string"))],
                          required: ["bugType", "description", "effect"])
        return .object([
            ("$schema", .string("https://json-schema.org/draft/2020-12/schema")),
            ("$id", .string("https://swift-adar/fixtures/schema/" + fileName.replacingOccurrences(of: ".json", with: ".schema.json"))),
            ("title", .string("ADAR conformance fixtures: \(fileName)")),
            ("type", .string("object")),
            ("properties", .object([
                ("schema", constant(FixtureFormat.schema)), ("operation", constant(topic)),
                ("generatorVersion", type("string")), ("header", array(of: type("string"))),
                ("notes", .object([("type", .string("object")), ("additionalProperties", note)])),
                ("numberOfTests", .object([("type", .string("integer")), ("minimum", .integer(0))])),
                ("testGroups", array(of: oneOf(operations.map { groupSchema($0, invalid: invalid) }))),
            ])),
            ("required", .array(["schema", "operation", "generatorVersion", "header", "notes", "numberOfTests", "testGroups"].map(JSONValue.string))),
            ("additionalProperties", .bool(false)),
        ])
    }

    /// `(file name, text)` of every schema for the given fixture files.
    public static func files(for fixtures: [FixtureFile]) -> [(name: String, text: String)] {
        fixtures.map { file in
            var operations = [FixtureOperation]()
            for case let operation? in file.testGroups.map(\.operation) where !operations.contains(operation) { operations.append(operation) }
            let name = file.name.replacingOccurrences(of: ".json", with: ".schema.json")
            return (name, schema(fileName: file.name, topic: file.topic, operations: operations).prettyPrinted() + "\n")
        }
    }
}
