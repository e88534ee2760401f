/// Bounds that keep ``PickleDecoder`` fast and small on hostile input. The defaults accept
/// anything RQ plausibly stores.
public struct PickleLimits: Sendable, Hashable {
    /// Deepest container nesting allowed in the result, and the most `MARK`s open at once.
    /// A container holding only scalars has depth 1. Default 512 (CPython's pickler stops near
    /// 500 levels, at its recursion limit, so nothing a Python producer wrote is refused).
    public var maximumDepth: Int
    /// Most bytes in any one `str`, `bytes` or `bytearray` (its encoded length in the pickle).
    /// Default 64 MiB (`64 << 20`).
    public var maximumLength: Int
    /// Most memo entries (`PUT`, `BINPUT`, `LONG_BINPUT`, `MEMOIZE`). Default 2^20.
    public var maximumMemoEntries: Int
    /// Most values pushed while decoding (which bounds the total number of container elements and
    /// the stack), and most elements in the result counting shared containers once per
    /// reference. Default 10 000 000.
    public var maximumElements: Int
    /// Most bytes in one binary integer (`LONG1`, `LONG4`); text integers (`INT`, `LONG`) are
    /// bounded to 4300 digits as in CPython 3.11. Keeps decimal conversion of a decoded integer
    /// (``PythonBigInt/description``) cheap. Default 64 KiB (about 158 000 decimal digits).
    public var maximumIntegerBytes: Int

    /// Creates limits; every argument defaults to the documented value.
    public init(
        maximumDepth: Int = 512,
        maximumLength: Int = 64 << 20,
        maximumMemoEntries: Int = 1 << 20,
        maximumElements: Int = 10_000_000,
        maximumIntegerBytes: Int = 1 << 16
    ) {
        self.maximumDepth = maximumDepth
        self.maximumLength = maximumLength
        self.maximumMemoEntries = maximumMemoEntries
        self.maximumElements = maximumElements
        self.maximumIntegerBytes = maximumIntegerBytes
    }
}
