"""Writes CPython's own pickles into Fixtures/pickle/ for the Swift `Pickle` tests (run once, output
committed). Needs only the standard library: `python3 compat/generate_pickle_fixtures.py`.

For every value and protocol (0, 2, 4, 5) whose pickle uses only the data opcodes the Swift decoder
supports, it writes:

  NAME_pP.pickle    pickle.dumps(value, protocol=P)
  NAME_pP.repr      repr(value)
  NAME_pP.json      json.dumps(value)                      (only when the value is JSON-able)
  NAME_pP.jsonrepr  repr(json.loads(json.dumps(value)))     (likewise)

`handmade_*.pickle` are hand-built byte strings for opcodes CPython 3 no longer writes (STRING,
BINSTRING, DICT with items, DUP, POP_MARK, ...); their `.repr` is repr(pickle.loads(bytes)), so
Python itself defines the expected value. `refused_*.pickle` need code execution (GLOBAL, REDUCE,
STACK_GLOBAL, ...): they are written, never loaded, and `refused_*.expected` holds the name and
byte offset of the first opcode the Swift decoder must refuse. `cyclic_*.pickle` hold a container
that contains itself, which the Swift decoder must reject.

Set iteration order depends on string hashing, so the script re-executes itself with
PYTHONHASHSEED=0 (the Swift cross-check runs Python the same way).
"""
import datetime
import json
import os
import pickle
import pickletools
import shutil
import sys

if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures", "pickle")

# Opcodes the Swift decoder accepts (everything else needs imports, calls or buffers).
SUPPORTED = {
    "PROTO", "FRAME", "STOP", "MARK", "POP", "POP_MARK", "DUP", "NONE", "NEWTRUE", "NEWFALSE",
    "INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4", "FLOAT", "BINFLOAT",
    "STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "BINUNICODE", "SHORT_BINUNICODE",
    "BINUNICODE8", "BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "BYTEARRAY8", "EMPTY_TUPLE",
    "TUPLE", "TUPLE1", "TUPLE2", "TUPLE3", "EMPTY_LIST", "LIST", "APPEND", "APPENDS", "EMPTY_DICT",
    "DICT", "SETITEM", "SETITEMS", "EMPTY_SET", "ADDITEMS", "FROZENSET", "MEMOIZE", "PUT", "BINPUT",
    "LONG_BINPUT", "GET", "BINGET", "LONG_BINGET",
}

PROTOCOLS = (0, 2, 4, 5)


class Point:
    """A plain class: pickling an instance needs GLOBAL/STACK_GLOBAL plus REDUCE/NEWOBJ/BUILD."""

    def __init__(self):
        self.x = 1
        self.y = 2


def first_unsupported(data):
    for opcode, _arg, position in pickletools.genops(data):
        if opcode.name not in SUPPORTED:
            return opcode.name, position
    return None


def write(name, suffix, content):
    mode = "wb" if isinstance(content, bytes) else "w"
    with open(os.path.join(OUT, f"{name}.{suffix}"), mode, **({} if mode == "wb" else {"encoding": "utf-8"})) as handle:
        handle.write(content)


def write_value(name, data, value):
    write(name, "pickle", data)
    write(name, "repr", repr(value))
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        return
    write(name, "json", text)
    write(name, "jsonrepr", repr(json.loads(text)))


def shared_dict():
    inner = {"a": 1}
    return [inner, inner, {"a": 2}]


def shared_list():
    inner = [1, "x"]
    return {"first": inner, "second": inner, "tuple": (inner, inner)}


def nested(depth):
    value = []
    for level in range(depth):
        value = [level, value]
    return value


VALUES = {
    # str
    "str_ascii": "hello",
    "str_empty": "",
    "str_unicode": "h\u00e9llo w\u00f6rld \u2713 \U0001F600 \u65e5\u672c\u8a9e",
    "str_300": "abcdefghij" * 30,
    "str_300_unicode": "\u00e9\u2713\U0001F600" * 100,
    "str_single_quote": "it's",
    "str_double_quote": 'say "hi"',
    "str_both_quotes": "it's \"both\"",
    "str_escapes": "back\\slash\nnew\rret\ttab\x00nul\x1aeof\x7fdel\x85nel\xa0nbsp\xadshy",
    "str_nonprintable": "\u2028\u2029\u200b\ufeff\ue000\U000F0000\u0378\U0010FFFF\u3000",
    "str_printable_unicode": "\u00ff\u0100\uffef\U0001D11E\u0300",
    # int
    "int_0": 0,
    "int_1": 1,
    "int_255": 255,
    "int_256": 256,
    "int_65535": 65535,
    "int_65536": 65536,
    "int_neg1": -1,
    "int_neg256": -256,
    "int_2p31m1": 2**31 - 1,
    "int_2p31": 2**31,
    "int_neg2p31": -(2**31),
    "int_neg2p31m1": -(2**31) - 1,
    "int_2p63m1": 2**63 - 1,
    "int_2p63": 2**63,
    "int_neg2p63": -(2**63),
    "int_neg2p63m1": -(2**63) - 1,
    "int_2p64": 2**64,
    "int_2p100": 2**100,
    "int_neg2p100": -(2**100),
    "int_2p2100": 2**2100,
    "int_neg2p2100": -(2**2100) + 12345,
    # float
    "float_zero": 0.0,
    "float_negzero": -0.0,
    "float_one": 1.0,
    "float_tenth": 0.1,
    "float_sum": 0.1 + 0.2,
    "float_pi": 3.141592653589793,
    "float_100": 100.0,
    "float_1e15": 1e15,
    "float_1e16": 1e16,
    "float_2p53": float(2**53),
    "float_big": 123456789012345678.0,
    "float_small": 1.5e-7,
    "float_1em5": 1e-05,
    "float_1em4": 1e-04,
    "float_denormal": 5e-324,
    "float_max": 1.7976931348623157e308,
    "float_nan": float("nan"),
    "float_inf": float("inf"),
    "float_neginf": float("-inf"),
    "float_list": [float("nan"), float("inf"), -0.0, 2.5, -1e300],
    # constants
    "bool_true": True,
    "bool_false": False,
    "none": None,
    # bytes
    "bytes_empty": b"",
    "bytes_mixed": b"\x00\x01\xff abc'\"\\\n\r\t\x7f",
    "bytes_single_quote": b"it's",
    "bytes_300": bytes(range(256)) + b"x" * 44,
    "bytearray_small": bytearray(b"ab\x00\xff"),
    "bytearray_empty": bytearray(),
    # containers
    "list_empty": [],
    "list_one": [1],
    "list_mixed": [1, "x", None, True, 2.5, -7],
    "list_2500": list(range(-100, 2400)),
    "tuple_empty": (),
    "tuple_1": (1,),
    "tuple_2": (1, "two"),
    "tuple_3": (1, "two", 3.0),
    "tuple_4": (1, 2, 3, 4),
    "tuple_nested": ((), ((),), (1, (2, (3,)))),
    "dict_empty": {},
    "dict_one": {"k": "v"},
    "dict_mixed": {"a": 1, "b": [1, 2], "c": {"d": None}, "e": (1, 2)},
    "dict_scalar_keys": {1: "one", 2.5: "float", None: "none", False: "false", 2**70: "big", -0.0: "zero"},
    "dict_tuple_key": {(1, 2): "t", "s": 1},
    "dict_frozenset_key": {frozenset({1}): "fs"},
    "dict_1500": {f"key{i}": i for i in range(1500)},
    "nested_json": {"list": [1, [2, [3, [4, []]]]], "dict": {"x": {"y": {"z": [None, True, False]}}}},
    "nested_all": {"set": {1, 2}, "frozenset": frozenset({"a"}), "bytes": b"b", "tuple": (1, [2, (3,)])},
    "nested_50": nested(50),
    "set_ints": {3, 1, 2},
    "set_empty": set(),
    "set_strings": {"alpha", "beta", "gamma"},
    "set_tuple": {(1, 2), None, 1.5},
    "frozenset_mixed": frozenset({1, "a"}),
    "frozenset_empty": frozenset(),
    "set_2500": set(range(2500)),
    "shared_dict": shared_dict(),
    "shared_list": shared_list(),
    "shared_string": ["same" * 3] * 3,
    # RQ shapes
    "rq_call": ("app.workers.async_resume_processor.process_resume_async", None, ("a1b2", "c3d4"), {}),
    "rq_call_kwargs": (
        "app.jobs.echo", None, (1, "\u00e9", [1, 2]), {"retries": 3, "meta": {"source": "api", "ratio": 0.5}},
    ),
    "rq_result": {"status": "ok", "items": [{"id": i, "score": i / 7} for i in range(5)]},
}

# Hand-built pickles for opcodes CPython 3 does not emit (or only in odd corners).
HANDMADE = {
    "string_escapes": b"S'abc\\n\\x41\\101\\'\\\\ \"q\"'\n.",
    "string_double_quoted": b'S"it\'s"\n.',
    "binstring": b"T\x03\x00\x00\x00abc.",
    "short_binstring": b"U\x05hello.",
    "unicode_escapes": b"V\\u00e9\\U0001f600 \\\\x caf\xe9 \\n\n.",
    "unicode_plain": b"Vplain text\n.",
    "int_text_bool": b"(I00\nI01\nI-5\nI0\nI2147483647\nI99999999999999999999\nt.",
    "long_text": b"(L12345678901234567890123L\nL-5\nL0L\nL9223372036854775807\nt.",
    "float_text": b"(F1.5\nFnan\nFinf\nF-inf\nF-0.0\nF1e+16\nF2.5E-3\nt.",
    "pop_mark": b"(K\x01K\x021N.",
    "pop": b"K\x01K\x020.",
    "pop_mark_via_pop": b"K\x07(0.",
    "dup": b"K\x012\x86.",
    "dict_items": b"(Vk\nI1\nVk2\nI2\nd.",
    "list_items": b"(I1\nI2\nl.",
    "setitems_duplicate": b"\x80\x04}(\x8c\x01k\x94K\x01\x8c\x01j\x94K\x03h\x00K\x02u.",
    "setitem_duplicate": b"}\x8c\x01kK\x01s\x8c\x01kK\x02s.",
    "additems_duplicate": b"\x80\x04\x8f(K\x01K\x01K\x02\x90.",
    "frozenset_duplicate": b"\x80\x04(K\x02K\x02\x8c\x01a\x91.",
    "long1_zero": b"\x8a\x00.",
    "long1_neg1": b"\x8a\x01\xff.",
    "long1_padded": b"\x8a\x04\x05\x00\x00\x00.",
    "long4_neg": b"\x8b\x02\x00\x00\x00\x00\x80.",
    "binunicode8": b"\x8d\x03\x00\x00\x00\x00\x00\x00\x00abc.",
    "binbytes": b"B\x03\x00\x00\x00a\x00b.",
    "binbytes8": b"\x8e\x02\x00\x00\x00\x00\x00\x00\x00\xfe\xff.",
    "bytearray8": b"\x96\x01\x00\x00\x00\x00\x00\x00\x00z.",
    "memo_text": b"(lp0\nI1\na(g0\ng0\ntp1\n0g1\n.",
    "memo_long": b"]r\x00\x00\x01\x00K\x05aj\x00\x00\x01\x00\x86.",
    "memo_mutation_after_use": b"]q\x00\x85q\x01h\x00K\x01a0h\x01.",
    "memoize": b"\x80\x04]\x94(K\x01K\x02e\x8c\x01s\x94h\x01h\x00\x87.",
    "trailing_data": b"N.trailing bytes are ignored",
    "tuple_of_marks": b"((K\x01t(t)t.",
    "text_numbers_end_at_nul": b"(I12\x00junk\np0\x00x\nF1.5\x00x\nL7\x00zz\nL8L\ng0\x00y\nt.",
    "numeric_keys_merge": b"}(K\x01U\x01aI01\nU\x01bG?\xf0\x00\x00\x00\x00\x00\x00U\x01cu.",
    "numeric_set_merge": b"\x8f(\x89K\x01\x88G?\xf0\x00\x00\x00\x00\x00\x00G\x80\x00\x00\x00\x00\x00\x00\x00\x90.",
    "tuple_keys_merge": b"}(K\x01\x85U\x01a\x88\x85U\x01bK\x02\x89\x86U\x01cu.",
}

# Hand-built pickle that would run os.system if loaded by Python. Never loaded here.
OS_SYSTEM = b"cos\nsystem\n(S'echo pwned'\ntR."


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    written = 0
    for name, value in VALUES.items():
        for protocol in PROTOCOLS:
            data = pickle.dumps(value, protocol=protocol)
            if first_unsupported(data) is not None:
                continue  # e.g. bytes or sets below protocol 3/4 need REDUCE
            write_value(f"{name}_p{protocol}", data, value)
            written += 1
    for name, data in HANDMADE.items():
        try:
            assert first_unsupported(data) is None, name
        except ValueError:
            pass  # pickletools is stricter than the unpickler (e.g. NUL-terminated numbers)
        write_value(f"handmade_{name}", data, pickle.loads(data))
        written += 1

    cyclic = []
    cyclic.append(cyclic)
    write("cyclic_self_list_p5", "pickle", pickle.dumps(cyclic, protocol=5))
    cyclic_dict = {}
    cyclic_dict["self"] = [cyclic_dict]
    write("cyclic_dict_p2", "pickle", pickle.dumps(cyclic_dict, protocol=2))

    refused = {
        "refused_datetime_p5": pickle.dumps(datetime.datetime(2026, 1, 1), protocol=5),
        "refused_datetime_p2": pickle.dumps(datetime.datetime(2026, 1, 1), protocol=2),
        "refused_instance_p5": pickle.dumps(Point(), protocol=5),
        "refused_instance_p0": pickle.dumps(Point(), protocol=0),
        "refused_bytes_p2": pickle.dumps(b"abc", protocol=2),
        "refused_set_p2": pickle.dumps({1, 2}, protocol=2),
        "refused_bytearray_p4": pickle.dumps(bytearray(b"ab"), protocol=4),
        "refused_os_system": OS_SYSTEM,
    }
    for name, data in refused.items():
        found = first_unsupported(data)
        assert found is not None, name
        write(name, "pickle", data)
        write(name, "expected", f"{found[0]} {found[1]}\n")
    print(f"wrote {written} fixtures, {len(refused)} refused, 2 cyclic into {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
