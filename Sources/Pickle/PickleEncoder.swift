/// Writes values as Python pickle protocol 5, the way CPython's `pickle.dumps(value, protocol=5)`
/// spells each type, but without `FRAME` opcodes and without memo entries (so shared
/// sub-values are written once per reference).
///
/// Output: `PROTO 5`, the value, `STOP`. Integers use `BININT1`/`BININT2`/`BININT` within the int32
/// range and `LONG1`/`LONG4` beyond; `str` is UTF-8 in `SHORT_BINUNICODE`/`BINUNICODE`/
/// `BINUNICODE8`; lists, dicts and sets are filled in batches of at most 1000 items (`APPENDS`,
/// `SETITEMS`, `ADDITEMS`), with a single item written by `APPEND`/`SETITEM` as CPython does.
public enum PickleEncoder {
    /// Items per `APPENDS`/`SETITEMS`/`ADDITEMS` batch, as in CPython.
    static let batchSize = 1000

    /// Pickles `value` with protocol 5.
    public static func encode(_ value: PythonValue) -> [UInt8] {
        var output: [UInt8] = [PickleOpcode.proto.rawValue, 5]
        output.reserveCapacity(64)
        write(value, to: &output)
        output.append(PickleOpcode.stop.rawValue)
        return output
    }

    private static func write(_ value: PythonValue, to output: inout [UInt8]) {
        switch value {
        case .none:
            output.append(PickleOpcode.none.rawValue)
        case .bool(let flag):
            output.append(flag ? PickleOpcode.newTrue.rawValue : PickleOpcode.newFalse.rawValue)
        case .int(let number):
            writeInteger(Int64(number), to: &output)
        case .bigInt(let number):
            if let small = number.int64 {
                writeInteger(small, to: &output)
            } else {
                writeLong(number.twosComplementLittleEndian, to: &output)
            }
        case .float(let number):
            output.append(PickleOpcode.binFloat.rawValue)
            let bits = number.bitPattern
            for shift in stride(from: 56, through: 0, by: -8) {
                output.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift)))
            }
        case .string(let text):
            let count = text.utf8.count
            if count < 256 {
                output.append(PickleOpcode.shortBinUnicode.rawValue)
                output.append(UInt8(count))
            } else if count <= 0xffff_ffff {
                output.append(PickleOpcode.binUnicode.rawValue)
                appendLittleEndian(UInt64(count), width: 4, to: &output)
            } else {
                output.append(PickleOpcode.binUnicode8.rawValue)
                appendLittleEndian(UInt64(count), width: 8, to: &output)
            }
            output.append(contentsOf: text.utf8)
        case .bytes(let bytes):
            if bytes.count < 256 {
                output.append(PickleOpcode.shortBinBytes.rawValue)
                output.append(UInt8(bytes.count))
            } else if bytes.count <= 0xffff_ffff {
                output.append(PickleOpcode.binBytes.rawValue)
                appendLittleEndian(UInt64(bytes.count), width: 4, to: &output)
            } else {
                output.append(PickleOpcode.binBytes8.rawValue)
                appendLittleEndian(UInt64(bytes.count), width: 8, to: &output)
            }
            output.append(contentsOf: bytes)
        case .bytearray(let bytes):
            output.append(PickleOpcode.byteArray8.rawValue)
            appendLittleEndian(UInt64(bytes.count), width: 8, to: &output)
            output.append(contentsOf: bytes)
        case .tuple(let items):
            switch items.count {
            case 0:
                output.append(PickleOpcode.emptyTuple.rawValue)
            case 1...3:
                for item in items { write(item, to: &output) }
                output.append(PickleOpcode.tuple1.rawValue + UInt8(items.count - 1))
            default:
                output.append(PickleOpcode.mark.rawValue)
                for item in items { write(item, to: &output) }
                output.append(PickleOpcode.tuple.rawValue)
            }
        case .list(let items):
            output.append(PickleOpcode.emptyList.rawValue)
            writeBatches(items, single: .append, batch: .appends, to: &output) { item, output in
                write(item, to: &output)
            }
        case .dict(let entries):
            output.append(PickleOpcode.emptyDict.rawValue)
            writeBatches(entries, single: .setItem, batch: .setItems, to: &output) { entry, output in
                write(entry.key, to: &output)
                write(entry.value, to: &output)
            }
        case .set(let items):
            output.append(PickleOpcode.emptySet.rawValue)
            writeBatches(items, single: .addItems, batch: .addItems, to: &output) { item, output in
                write(item, to: &output)
            }
        case .frozenset(let items):
            output.append(PickleOpcode.mark.rawValue)
            for item in items { write(item, to: &output) }
            output.append(PickleOpcode.frozenSet.rawValue)
        }
    }

    /// CPython's batching: nothing for an empty container, `single` for one element (sets use a
    /// one-element `ADDITEMS` batch), else `MARK … batch` per 1000 elements.
    private static func writeBatches<Element>(
        _ elements: [Element], single: PickleOpcode, batch: PickleOpcode, to output: inout [UInt8],
        _ writeElement: (Element, inout [UInt8]) -> Void
    ) {
        if elements.count == 1 && single != batch {
            writeElement(elements[0], &output)
            output.append(single.rawValue)
            return
        }
        var start = 0
        while start < elements.count {
            let end = min(start + batchSize, elements.count)
            output.append(PickleOpcode.mark.rawValue)
            for element in elements[start..<end] { writeElement(element, &output) }
            output.append(batch.rawValue)
            start = end
        }
    }

    private static func writeInteger(_ number: Int64, to output: inout [UInt8]) {
        switch number {
        case 0...0xff:
            output.append(PickleOpcode.binInt1.rawValue)
            output.append(UInt8(number))
        case 0x100...0xffff:
            output.append(PickleOpcode.binInt2.rawValue)
            appendLittleEndian(UInt64(number), width: 2, to: &output)
        case Int64(Int32.min)...Int64(Int32.max):
            output.append(PickleOpcode.binInt.rawValue)
            appendLittleEndian(UInt64(bitPattern: number), width: 4, to: &output)
        default:
            writeLong(PythonBigInt(number).twosComplementLittleEndian, to: &output)
        }
    }

    /// `LONG1` (under 256 bytes) or `LONG4` with minimal two's-complement bytes.
    private static func writeLong(_ bytes: [UInt8], to output: inout [UInt8]) {
        if bytes.count < 256 {
            output.append(PickleOpcode.long1.rawValue)
            output.append(UInt8(bytes.count))
        } else {
            output.append(PickleOpcode.long4.rawValue)
            appendLittleEndian(UInt64(bytes.count), width: 4, to: &output)
        }
        output.append(contentsOf: bytes)
    }

    private static func appendLittleEndian(_ value: UInt64, width: Int, to output: inout [UInt8]) {
        for index in 0..<width {
            output.append(UInt8(truncatingIfNeeded: value >> UInt64(8 * index)))
        }
    }
}
