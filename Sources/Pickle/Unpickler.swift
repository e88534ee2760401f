/// The state machine behind ``PickleDecoder``: CPython's `_pickle.Unpickler` restricted to data
/// opcodes, with every length checked against the remaining input and the ``PickleLimits``.
///
/// Helpers on the hot path are `mutating` even when they only read: a non-mutating call from a
/// mutating method makes the optimizer copy the whole state (arrays, memo) for the call.
struct Unpickler {
    let input: [UInt8]
    let limits: PickleLimits
    var position = 0
    var stack: [PickleItem] = []
    /// Stack heights at each open `MARK`; the last one is the fence below which opcodes may not pop.
    var marks: [Int] = []
    var memo: [Int: PickleItem] = [:]
    /// Every container created; ``PickleItem/container(_:)`` holds an index into it.
    var containers: [PickleContainer] = []
    var pushes = 0
    /// Offset and byte of the opcode being decoded, for errors.
    var opcodeOffset = 0
    var opcodeByte: UInt8 = 0

    init(input: [UInt8], limits: PickleLimits) {
        self.input = input
        self.limits = limits
    }

    /// Runs to `STOP` and returns the value on top of the stack.
    mutating func run() throws(PickleError) -> PythonValue {
        while true {
            opcodeOffset = position
            guard position < input.count else {
                throw PickleError(.truncated, offset: position, "pickle data was truncated (no STOP opcode)")
            }
            opcodeByte = input[position]
            position += 1
            guard let opcode = PickleOpcode(rawValue: opcodeByte) else {
                throw fail(.unsupportedOpcode, "unknown opcode")
            }
            if let result = try step(opcode) {
                return result
            }
        }
    }

    // MARK: - Opcodes

    /// Executes one opcode; returns the result at `STOP`.
    mutating func step(_ opcode: PickleOpcode) throws(PickleError) -> PythonValue? {
        switch opcode {
        case .proto:
            let version = try readByte()
            guard version <= 5 else { throw fail(.invalid, "unsupported pickle protocol: \(version)") }
        case .frame:
            let length = try readLittleEndian(8)
            guard length <= UInt64(remaining) else {
                throw fail(.truncated, "frame of \(length) bytes but only \(remaining) remain")
            }
        case .stop:
            return try finish(try pop())
        case .mark:
            guard marks.count < limits.maximumDepth else {
                throw fail(.limitExceeded, "more than \(limits.maximumDepth) open MARKs")
            }
            marks.append(stack.count)
        case .pop:
            if let mark = marks.last, mark == stack.count {
                marks.removeLast()
            } else {
                _ = try pop()
            }
        case .popMark:
            _ = try popMark()
        case .dup:
            guard stack.count > fence, let top = stack.last else { throw underflow() }
            try push(top)
        case .none:
            try push(.value(.none))
        case .newTrue:
            try push(.value(.bool(true)))
        case .newFalse:
            try push(.value(.bool(false)))
        case .int:
            // Protocol 0 writes booleans as `I00` / `I01`.
            let line = try readLine()
            if line.count == 2 && line.first == UInt8(ascii: "0") && (line.last == UInt8(ascii: "0") || line.last == UInt8(ascii: "1")) {
                try push(.value(.bool(line.last == UInt8(ascii: "1"))))
            } else {
                try push(.value(try parseTextInteger(Self.untilNUL(line))))
            }
        case .binInt:
            try push(.value(.int(Int(Int32(truncatingIfNeeded: try readLittleEndian(4))))))
        case .binInt1:
            try push(.value(.int(Int(try readByte()))))
        case .binInt2:
            try push(.value(.int(Int(try readLittleEndian(2)))))
        case .long:
            // Python 2 wrote a trailing `L`; CPython strips it before reading the C string.
            var line = try readLine()
            if line.last == UInt8(ascii: "L") { line = line.dropLast() }
            try push(.value(try parseTextInteger(Self.untilNUL(line))))
        case .long1:
            let count = Int(try readByte())
            try push(.value(try readInteger(count)))
        case .long4:
            let count = Int32(truncatingIfNeeded: try readLittleEndian(4))
            guard count >= 0 else { throw fail(.invalid, "LONG pickle has negative byte count") }
            try push(.value(try readInteger(Int(count))))
        case .float:
            try push(.value(.float(try parseTextFloat(try readNumberLine()))))
        case .binFloat:
            try push(.value(.float(Double(bitPattern: try readBigEndian64()))))
        case .string:
            let line = try readLine()
            guard line.count <= max(limits.maximumLength, 0) + 2 else { throw tooLong(line.count) }
            try push(.value(.string(try decodeEscapedString(line))))
        case .binString:
            let raw = Int32(truncatingIfNeeded: try readLittleEndian(4))
            guard raw >= 0 else { throw fail(.invalid, "BINSTRING pickle has negative byte count") }
            try push(.value(.string(try ascii(try readBytes(try checkedLength(UInt64(raw)))))))
        case .shortBinString:
            let count = UInt64(try readByte())
            try push(.value(.string(try ascii(try readBytes(try checkedLength(count))))))
        case .unicode:
            let line = try readLine()
            guard line.count <= max(limits.maximumLength, 0) else { throw tooLong(line.count) }
            try push(.value(.string(try decodeRawUnicodeEscape(line))))
        case .binUnicode:
            try push(.value(.string(try utf8(try readBytes(try checkedLength(try readLittleEndian(4)))))))
        case .shortBinUnicode:
            try push(.value(.string(try utf8(try readBytes(try checkedLength(UInt64(try readByte())))))))
        case .binUnicode8:
            try push(.value(.string(try utf8(try readBytes(try checkedLength(try readLittleEndian(8)))))))
        case .binBytes:
            try push(.value(.bytes(Array(try readBytes(try checkedLength(try readLittleEndian(4)))))))
        case .shortBinBytes:
            try push(.value(.bytes(Array(try readBytes(try checkedLength(UInt64(try readByte())))))))
        case .binBytes8:
            try push(.value(.bytes(Array(try readBytes(try checkedLength(try readLittleEndian(8)))))))
        case .byteArray8:
            try push(.value(.bytearray(Array(try readBytes(try checkedLength(try readLittleEndian(8)))))))
        case .emptyTuple:
            try push(.value(.tuple([])))
        case .tuple:
            try push(makeTuple(try popMark()))
        case .tuple1, .tuple2, .tuple3:
            let count = Int(opcode.rawValue - PickleOpcode.tuple1.rawValue) + 1
            guard stack.count - count >= fence else { throw underflow() }
            let items = Array(stack[(stack.count - count)...])
            stack.removeLast(count)
            try push(makeTuple(items))
        case .emptyList:
            try push(.container(makeContainer(.list)))
        case .list:
            let items = try popMark()
            try push(.container(makeContainer(.list, items)))
        case .append:
            guard stack.count - 1 > fence else { throw underflow() }
            let value = stack.removeLast()
            let target = try container(at: stack.count - 1, .list)
            containers[target].items.append(value)
        case .appends:
            let mark = try popMarkHeight()
            guard mark > fence else { throw underflow() }
            if stack.count > mark {
                let target = try container(at: mark - 1, .list)
                containers[target].items.append(contentsOf: stack[mark...])
                stack.removeSubrange(mark...)
            }
        case .emptyDict:
            try push(.container(makeContainer(.dict)))
        case .dict:
            let items = try popMark()
            guard items.count % 2 == 0 else { throw fail(.invalid, "odd number of items for DICT") }
            let dict = makeContainer(.dict)
            try insertPairs(items[...], into: dict)
            try push(.container(dict))
        case .setItem:
            guard stack.count - 2 > fence else { throw underflow() }
            let dict = try container(at: stack.count - 3, .dict)
            try insertPairs(stack[(stack.count - 2)...], into: dict)
            stack.removeLast(2)
        case .setItems:
            let mark = try popMarkHeight()
            guard mark > fence else { throw underflow() }
            if stack.count > mark {
                guard (stack.count - mark) % 2 == 0 else { throw fail(.invalid, "odd number of items for SETITEMS") }
                let dict = try container(at: mark - 1, .dict)
                try insertPairs(stack[mark...], into: dict)
                stack.removeSubrange(mark...)
            }
        case .emptySet:
            try push(.container(makeContainer(.set)))
        case .addItems:
            let mark = try popMarkHeight()
            guard mark > fence else { throw underflow() }
            if stack.count > mark {
                let set = try container(at: mark - 1, .set)
                for item in stack[mark...] { try insert(item, value: nil, into: set) }
                stack.removeSubrange(mark...)
            }
        case .frozenSet:
            let items = try popMark()
            let set = makeContainer(.frozenset)
            for item in items { try insert(item, value: nil, into: set) }
            if containers[set].items.allSatisfy(Self.isScalar) {
                try push(.value(.frozenset(containers[set].items.map(Self.scalarValue))))
            } else {
                try push(.container(set))
            }
        case .memoize:
            guard stack.count > fence, let top = stack.last else { throw underflow() }
            try remember(top, at: memo.count)
        case .put:
            guard stack.count > fence, let top = stack.last else { throw underflow() }
            try remember(top, at: try parseMemoIndex(try readNumberLine()))
        case .binPut:
            guard stack.count > fence, let top = stack.last else { throw underflow() }
            try remember(top, at: Int(try readByte()))
        case .longBinPut:
            guard stack.count > fence, let top = stack.last else { throw underflow() }
            try remember(top, at: Int(try readLittleEndian(4)))
        case .get:
            try recall(try parseMemoIndex(try readNumberLine()))
        case .binGet:
            try recall(Int(try readByte()))
        case .longBinGet:
            try recall(Int(try readLittleEndian(4)))
        case .global, .stackGlobal, .reduce, .build, .inst, .obj, .newObj, .newObjEx,
            .ext1, .ext2, .ext4, .persID, .binPersID, .nextBuffer, .readonlyBuffer:
            throw fail(.unsupportedOpcode, "refused: \(opcode.name) would import or call code or use out-of-band buffers")
        }
        return nil
    }

    // MARK: - Stack

    private var fence: Int { marks.last ?? 0 }

    mutating func push(_ item: PickleItem) throws(PickleError) {
        pushes += 1
        guard pushes <= limits.maximumElements else {
            throw fail(.limitExceeded, "more than \(limits.maximumElements) values")
        }
        stack.append(item)
    }

    mutating func pop() throws(PickleError) -> PickleItem {
        guard stack.count > fence else { throw underflow() }
        return stack.removeLast()
    }

    /// Pops the innermost `MARK` and the items above it.
    mutating func popMark() throws(PickleError) -> [PickleItem] {
        let mark = try popMarkHeight()
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    /// Pops the innermost `MARK` and returns its stack height; the items stay on the stack.
    mutating func popMarkHeight() throws(PickleError) -> Int {
        guard let mark = marks.popLast() else { throw fail(.invalid, "could not find MARK") }
        return mark
    }

    func underflow() -> PickleError {
        fail(.invalid, "unpickling stack underflow")
    }
}
