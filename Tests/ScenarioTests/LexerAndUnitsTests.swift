import Testing

@testable import Scenario

@Suite("Lexer and units")
struct LexerAndUnitsTests {
    @Test("a line splits into command, positionals and key=value arguments with columns")
    func lexesALine() throws {
        let line = try #require(
            try Lexer.lex("send from=gpu0  to=gpu9 size=64MiB real # a comment", file: "f", line: 3))
        #expect(line.command.text == "send")
        #expect(line.options.map(\.key.text) == ["from", "to", "size"])
        #expect(line.options.map(\.value.text) == ["gpu0", "gpu9", "64MiB"])
        #expect(line.options.map(\.value.column) == [11, 20, 30])
        #expect(line.positionals.map(\.text) == ["real"])
    }

    @Test("comments and blank lines are nothing; quotes group and operators stay whole")
    func commentsQuotesOperators() throws {
        #expect(try Lexer.lex("   # only a comment", file: "f", line: 1) == nil)
        #expect(try Lexer.lex("", file: "f", line: 1) == nil)
        let quoted = try #require(try Lexer.lex(#"trace export "my trace.json""#, file: "f", line: 1))
        #expect(quoted.positionals.map(\.text) == ["export", "my trace.json"])
        let keyQuoted = try #require(try Lexer.lex(#"cluster name="two words""#, file: "f", line: 1))
        #expect(keyQuoted.options.first?.value.text == "two words")
        #expect(keyQuoted.options.first?.value.isQuoted == true)
        let expect = try #require(try Lexer.lex("expect a.b <= 3us", file: "f", line: 1))
        #expect(expect.positionals.map(\.text) == ["a.b", "<=", "3us"])
        let equal = try #require(try Lexer.lex("expect a == 3", file: "f", line: 1))
        #expect(equal.positionals.map(\.text) == ["a", "==", "3"])
    }

    @Test(
        "quantities parse with units into base units",
        arguments: [
            ("64MiB", Dimension.bytes, 67_108_864.0), ("1.5GB", .bytes, 1.5e9), ("1KiB", .bytes, 1024),
            ("160GB/s", .bandwidth, 1.6e11), ("400Gb/s", .bandwidth, 5e10), ("3us", .time, 3_000),
            ("2.5ms", .time, 2_500_000), ("7µs", .time, 7_000), ("1s", .time, 1e9), ("12", .number, 12),
            ("1e3", .number, 1_000), ("0", .time, 0), ("25%", .number, 0.25),
        ])
    func quantities(text: String, dimension: Dimension, expected: Double) throws {
        #expect(try Quantity.parse(text, as: dimension).value == expected)
    }

    @Test(
        "bad quantities name the problem",
        arguments: [
            (
                "64MiX", Dimension.bytes,
                "unknown unit 'MiX' in '64MiX' (bytes units: KiB, MiB, GiB, TiB, KB, MB, GB, TB, B)"
            ),
            ("3", .time, "'3' needs a unit (expected a time like 3us)"),
            ("fast", .bandwidth, "'fast' is not a number (expected a bandwidth like 160GB/s)"),
            ("1e400", .number, "'1e400' is out of range"),
            ("1..2ms", .time, "'1..2ms' is not a number (expected a time like 3us)"),
        ])
    func badQuantities(text: String, dimension: Dimension, message: String) {
        #expect(throws: QuantityError.self) { try Quantity.parse(text, as: dimension) }
        do {
            _ = try Quantity.parse(text, as: dimension)
        } catch {
            #expect(error.description == message)
        }
    }

    @Test("quantities print with readable units")
    func formatting() {
        #expect(Quantity.format(67_108_864, .bytes) == "64 MiB")
        #expect(Quantity.format(1.6e11, .bandwidth) == "160 GB/s")
        #expect(Quantity.format(3_500, .time) == "3.5µs")
        #expect(Quantity.format(0.123456, .number) == "0.1235")
        #expect(Quantity.format(21, .number) == "21")
    }
}
