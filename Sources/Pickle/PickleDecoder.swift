/// Reads Python pickles (protocols 0–5) of plain data without ever importing or calling code.
///
/// Supported: the constants, `int` (any size), `float`, `str` (including Python 2 `str` as ASCII),
/// `bytes`, `bytearray`, `tuple`, `list`, `dict`, `set`, `frozenset`, with memo sharing and the
/// mutation order of CPython's unpickler (a list fetched from the memo and appended to later shows
/// its final content everywhere). Everything that needs code (`GLOBAL`, `STACK_GLOBAL`, `REDUCE`,
/// `BUILD`, `INST`, `OBJ`, `NEWOBJ`, `NEWOBJ_EX`, `EXT1/2/4`, `PERSID`, `BINPERSID`) or out-of-band
/// buffers (`NEXT_BUFFER`, `READONLY_BUFFER`) is refused with ``PickleError/Code/unsupportedOpcode``,
/// naming the opcode and its offset. A container that contains itself is refused too, since
/// ``PythonValue`` cannot represent it.
///
/// Hostile input cannot crash, hang or exhaust memory: every declared length is checked against
/// the remaining input before anything is read or allocated, and ``PickleLimits`` bounds nesting,
/// string size, memo size and element count (memory stays proportional to the input, at most a
/// few hundred bytes per element). Bytes after `STOP` are ignored, as Python does.
///
/// Where the result can differ from CPython's `pickle.loads` (only for pickles CPython's pickler
/// never writes): recursive structures and `str` with lone surrogates are refused; `INT`/`LONG`
/// text must be an optionally signed decimal (CPython's `strtol` also takes whitespace, `0x`
/// prefixes and octal leading zeros); `SETITEM(S)` must target a dict (CPython assigns items of
/// any object, e.g. a list index); dict keys and set elements are merged by Python's equality for
/// numbers and tuples (`1`, `1.0`, `True`), but frozenset keys and NaNs are never merged.
public enum PickleDecoder {
    /// Decodes one pickle into a value.
    ///
    /// - Parameters:
    ///   - bytes: The pickle, starting at its first opcode (usually `PROTO`).
    ///   - limits: Resource bounds; the defaults suit RQ payloads.
    /// - Throws: ``PickleError`` for truncated, malformed, refused or oversized input.
    public static func decode(_ bytes: [UInt8], limits: PickleLimits = PickleLimits()) throws(PickleError) -> PythonValue {
        var unpickler = Unpickler(input: bytes, limits: limits)
        return try unpickler.run()
    }
}
