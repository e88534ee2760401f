import Pickle
import Testing

/// `repr()` as CPython prints it.
@Suite("Python repr")
struct PythonReprTests {
    private func repr(_ value: PythonValue) -> String {
        PythonRepr.repr(value)
    }

    @Test func constantsAndNumbers() throws {
        #expect(repr(nil) == "None")
        #expect(repr(true) == "True")
        #expect(repr(false) == "False")
        #expect(repr(-42) == "-42")
        #expect(repr(.bigInt(try #require(PythonBigInt(decimal: "-123456789012345678901234567890")))) == "-123456789012345678901234567890")
        let floats: [(Double, String)] = [
            (0, "0.0"), (-0.0, "-0.0"), (1, "1.0"), (100, "100.0"), (0.1, "0.1"), (0.1 + 0.2, "0.30000000000000004"),
            (1e15, "1000000000000000.0"), (1e16, "1e+16"), (Double("123456789012345678") ?? 0, "1.2345678901234568e+17"),
            (1.5e-7, "1.5e-07"), (Double(bitPattern: 1), "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"),
            (1e-4, "0.0001"), (1e-5, "1e-05"), (9007199254740992, "9007199254740992.0"), (1e22, "1e+22"),
            (.nan, "nan"), (.infinity, "inf"), (-.infinity, "-inf"), (-1.5e300, "-1.5e+300"), (0.00012, "0.00012"),
        ]
        for (value, expected) in floats {
            #expect(repr(.float(value)) == expected)
        }
    }

    @Test func strings() {
        #expect(repr("abc") == "'abc'")
        #expect(repr("it's") == #""it's""#)
        #expect(repr(#"it's "x""#) == #"'it\'s "x"'"#)
        #expect(repr(#"say "x""#) == #"'say "x"'"#)
        #expect(repr("a\\b\n\r\t\u{0}\u{1b}\u{7f}") == #"'a\\b\n\r\t\x00\x1b\x7f'"#)
        #expect(repr("é日本😀") == "'é日本😀'")
        #expect(repr("\u{85}\u{a0}\u{ad}\u{2028}\u{200b}\u{feff}\u{e000}\u{3000}\u{F0000}") == #"'\x85\xa0\xad\u2028\u200b\ufeff\ue000\u3000\U000f0000'"#)
        #expect(repr(" ") == "' '")
        #expect(repr("") == "''")
    }

    @Test func bytes() {
        #expect(repr(.bytes([])) == "b''")
        #expect(repr(.bytes(Array("it's".utf8))) == #"b"it's""#)
        #expect(repr(.bytes([0, 0x27, 0x22, 0x5c, 0x0a, 0x0d, 0x09, 0x7f, 0x80, 0xff, 0x41])) == #"b'\x00\'"\\\n\r\t\x7f\x80\xffA'"#)
        #expect(repr(.bytearray([0x61])) == "bytearray(b'a')")
        #expect(repr(.bytearray([])) == "bytearray(b'')")
    }

    @Test func containers() {
        #expect(repr([1, "x"]) == "[1, 'x']")
        #expect(repr([]) == "[]")
        #expect(repr(.tuple([])) == "()")
        #expect(repr(.tuple([1])) == "(1,)")
        #expect(repr(.tuple([1, 2])) == "(1, 2)")
        #expect(repr(["k": "v", "n": [nil]]) == "{'k': 'v', 'n': [None]}")
        #expect(repr([:]) == "{}")
        #expect(repr(.set([1, 2])) == "{1, 2}")
        #expect(repr(.set([])) == "set()")
        #expect(repr(.frozenset([1])) == "frozenset({1})")
        #expect(repr(.frozenset([])) == "frozenset()")
        #expect(repr([.float(.nan), .tuple([.float(.infinity)])]) == "[nan, (inf,)]")
        #expect(repr(.dict([PythonDictEntry(.tuple([1, 2]), .frozenset(["a"]))])) == "{(1, 2): frozenset({'a'})}")
    }
}
