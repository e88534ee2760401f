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
    private mutating func step(_ opcode: PickleOpcode) throws(PickleError) -> PythonValue? {
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

    private mutating func push(_ item: PickleItem) throws(PickleError) {
        pushes += 1
        guard pushes <= limits.maximumElements else {
            throw fail(.limitExceeded, "more than \(limits.maximumElements) values")
        }
        stack.append(item)
    }

    private mutating func pop() throws(PickleError) -> PickleItem {
        guard stack.count > fence else { throw underflow() }
        return stack.removeLast()
    }

    /// Pops the innermost `MARK` and the items above it.
    private mutating func popMark() throws(PickleError) -> [PickleItem] {
        let mark = try popMarkHeight()
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    /// Pops the innermost `MARK` and returns its stack height; the items stay on the stack.
    private mutating func popMarkHeight() throws(PickleError) -> Int {
        guard let mark = marks.popLast() else { throw fail(.invalid, "could not find MARK") }
        return mark
    }

    private func underflow() -> PickleError {
        fail(.invalid, "unpickling stack underflow")
    }

    // MARK: - Containers

    /// Adds a container to the arena and returns its index.
    private mutating func makeContainer(_ kind: PickleContainer.Kind, _ items: [PickleItem] = []) -> Int {
        containers.append(PickleContainer(kind, items))
        return containers.count - 1
    }

    /// A tuple of scalars is an immutable value at once; one holding containers stays a reference.
    private mutating func makeTuple(_ items: [PickleItem]) -> PickleItem {
        if items.allSatisfy(Self.isScalar) {
            return .value(.tuple(items.map(Self.scalarValue)))
        }
        return .container(makeContainer(.tuple, items))
    }

    /// Whether an item is a value without nested containers.
    private static func isScalar(_ item: PickleItem) -> Bool {
        switch item {
        case .container: return false
        case .value(.tuple), .value(.frozenset), .value(.list), .value(.dict), .value(.set): return false
        case .value: return true
        }
    }

    private static func scalarValue(_ item: PickleItem) -> PythonValue {
        if case .value(let value) = item { return value }
        return .none
    }

    /// The arena index of the container of `kind` at stack position `index`.
    private mutating func container(at index: Int, _ kind: PickleContainer.Kind) throws(PickleError) -> Int {
        guard index >= 0, index < stack.count else { throw underflow() }
        guard case .container(let id) = stack[index], containers[id].kind == kind else {
            throw fail(.invalid, "target is not a \(kind.typeName)")
        }
        return id
    }

    private mutating func insertPairs(_ items: ArraySlice<PickleItem>, into dict: Int) throws(PickleError) {
        var index = items.startIndex
        while index + 1 < items.endIndex {
            try insert(items[index], value: items[index + 1], into: dict)
            index += 2
        }
    }

    /// Adds a dict entry (`value` non-nil) or a set element. Like Python, an equal scalar key keeps
    /// its position and takes the new value; an equal set element is not added again.
    private mutating func insert(_ key: PickleItem, value: PickleItem?, into id: Int) throws(PickleError) {
        try checkHashable(key)
        let width = value == nil ? 1 : 2
        let dedupeKey = Self.dedupeKey(key)
        if let dedupeKey {
            var existing: Int?
            if let index = containers[id].index {
                existing = index[dedupeKey]
            } else {
                let items = containers[id].items
                var position = 0
                while position < items.count {
                    if case .value(let candidate) = items[position], Self.dedupeKey(.value(candidate)) == dedupeKey {
                        existing = position
                        break
                    }
                    position += width
                }
            }
            if let existing {
                if let value { containers[id].items[existing + 1] = value }
                return
            }
        }
        let position = containers[id].items.count
        containers[id].items.append(key)
        if let value { containers[id].items.append(value) }
        if containers[id].index != nil {
            if let dedupeKey { containers[id].index?[dedupeKey] = position }
        } else if containers[id].items.count > 32 * width {
            let items = containers[id].items
            var index: [PythonValue: Int] = [:]
            var current = 0
            while current < items.count {
                if let key = Self.dedupeKey(items[current]), index[key] == nil { index[key] = current }
                current += width
            }
            containers[id].index = index
        }
    }

    /// The key under which Python's dict or set would find an equal element: numbers compare by
    /// value across `bool`, `int` and `float` (`True == 1 == 1.0`, `-0.0 == 0`), tuples element by
    /// element. NaN (never equal to another NaN object), frozensets (equal in any order) and
    /// containers still being built are not deduplicated.
    private static func dedupeKey(_ item: PickleItem) -> PythonValue? {
        guard case .value(let value) = item else { return nil }
        return normalisedKey(value)
    }

    private static func normalisedKey(_ value: PythonValue) -> PythonValue? {
        switch value {
        case .bool(let flag):
            return .int(flag ? 1 : 0)
        case .float(let number):
            if number.isNaN { return nil }
            if let exact = Int(exactly: number) { return .int(exact) }
            return value
        case .tuple(let elements):
            var normalised: [PythonValue] = []
            normalised.reserveCapacity(elements.count)
            for element in elements {
                guard let key = normalisedKey(element) else { return nil }
                normalised.append(key)
            }
            return .tuple(normalised)
        case .frozenset:
            return nil
        default:
            return value
        }
    }

    /// Refuses what Python cannot hash: lists, dicts, sets, bytearrays, and tuples holding any of
    /// them at any depth (checked once per tuple, iteratively).
    private mutating func checkHashable(_ item: PickleItem) throws(PickleError) {
        var work: [Int] = []
        switch item {
        case .value(let value):
            if let name = Self.unhashableScalar(value) { throw fail(.invalid, "unhashable type: '\(name)'") }
            return
        case .container(let id):
            work.append(id)
        }
        while let id = work.popLast() {
            switch containers[id].kind {
            case .list, .dict, .set:
                throw fail(.invalid, "unhashable type: '\(containers[id].kind.typeName)'")
            case .frozenset:
                continue  // its elements were checked when it was built
            case .tuple:
                if containers[id].hashChecked { continue }
                containers[id].hashChecked = true
                for element in containers[id].items {
                    switch element {
                    case .container(let child):
                        work.append(child)
                    case .value(let value):
                        if let name = Self.unhashableScalar(value) { throw fail(.invalid, "unhashable type: '\(name)'") }
                    }
                }
            }
        }
    }

    /// The type name if a finished value cannot be hashed (a bytearray, or a tuple holding one).
    private static func unhashableScalar(_ value: PythonValue) -> String? {
        switch value {
        case .bytearray: return "bytearray"
        case .tuple(let elements): return elements.lazy.compactMap(unhashableScalar).first
        default: return nil
        }
    }

    // MARK: - Memo

    private mutating func remember(_ item: PickleItem, at index: Int) throws(PickleError) {
        if memo[index] == nil && memo.count >= limits.maximumMemoEntries {
            throw fail(.limitExceeded, "more than \(limits.maximumMemoEntries) memo entries")
        }
        memo[index] = item
    }

    private mutating func recall(_ index: Int) throws(PickleError) {
        guard let item = memo[index] else { throw fail(.invalid, "memo value not found at index \(index)") }
        try push(item)
    }

    // MARK: - Conversion

    /// Turns the `STOP` item into a value, rejecting cycles and enforcing depth and size limits.
    /// Iterative, so hostile nesting cannot exhaust the call stack.
    private mutating func finish(_ item: PickleItem) throws(PickleError) -> PythonValue {
        let root: Int
        switch item {
        case .value(let value):
            if Self.isScalar(item) || limits.maximumDepth >= 1 { return value }
            throw fail(.limitExceeded, "nesting deeper than \(limits.maximumDepth)")
        case .container(let id):
            root = id
        }
        guard limits.maximumDepth >= 1 else { throw fail(.limitExceeded, "nesting deeper than \(limits.maximumDepth)") }
        containers[root].state = .visiting
        var path: [(id: Int, next: Int)] = [(root, 0)]
        while let last = path.last {
            let (id, next) = (last.id, last.next)
            guard next < containers[id].items.count else {
                try complete(id)
                path.removeLast()
                continue
            }
            path[path.count - 1].next = next + 1
            let item = containers[id].items[next]
            switch item {
            case .value:
                if !Self.isScalar(item) && path.count + 1 > limits.maximumDepth {
                    throw fail(.limitExceeded, "nesting deeper than \(limits.maximumDepth)")
                }
            case .container(let child):
                switch containers[child].state {
                case .fresh:
                    guard path.count + 1 <= limits.maximumDepth else {
                        throw fail(.limitExceeded, "nesting deeper than \(limits.maximumDepth)")
                    }
                    containers[child].state = .visiting
                    path.append((child, 0))
                case .visiting:
                    throw fail(.invalid, "a \(containers[child].kind.typeName) contains itself (recursive structures are not supported)")
                case .done:
                    guard path.count + containers[child].depth <= limits.maximumDepth else {
                        throw fail(.limitExceeded, "nesting deeper than \(limits.maximumDepth)")
                    }
                }
            }
        }
        return containers[root].result
    }

    /// Builds the value of a container whose children are all converted.
    private mutating func complete(_ id: Int) throws(PickleError) {
        let items = containers[id].items
        var depth = 1
        var size = items.count
        var values: [PythonValue] = []
        values.reserveCapacity(items.count)
        for item in items {
            switch item {
            case .value(let value):
                values.append(value)
                switch value {
                case .tuple(let elements), .frozenset(let elements):
                    depth = max(depth, 2)
                    size = size.addingReportingOverflow(elements.count).partialValue
                default:
                    break
                }
            case .container(let child):
                values.append(containers[child].result)
                depth = max(depth, containers[child].depth + 1)
                let (sum, overflow) = size.addingReportingOverflow(containers[child].size)
                size = overflow ? Int.max : sum
            }
            if size > limits.maximumElements {
                throw fail(.limitExceeded, "result has more than \(limits.maximumElements) elements")
            }
        }
        let result: PythonValue
        switch containers[id].kind {
        case .list: result = .list(values)
        case .tuple: result = .tuple(values)
        case .set: result = .set(values)
        case .frozenset: result = .frozenset(values)
        case .dict:
            var entries: [PythonDictEntry] = []
            entries.reserveCapacity(values.count / 2)
            var index = 0
            while index + 1 < values.count {
                entries.append(PythonDictEntry(values[index], values[index + 1]))
                index += 2
            }
            result = .dict(entries)
        }
        containers[id].result = result
        containers[id].depth = depth
        containers[id].size = size
        containers[id].state = .done
        // The items are no longer needed; free them early.
        containers[id].items = []
        containers[id].index = nil
    }

    // MARK: - Reading

    private var remaining: Int { input.count - position }

    private mutating func readByte() throws(PickleError) -> UInt8 {
        guard position < input.count else { throw truncated(1) }
        let byte = input[position]
        position += 1
        return byte
    }

    private mutating func readBytes(_ count: Int) throws(PickleError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else { throw truncated(count) }
        let slice = input[position..<(position + count)]
        position += count
        return slice
    }

    private mutating func readLittleEndian(_ width: Int) throws(PickleError) -> UInt64 {
        let bytes = try readBytes(width)
        var result: UInt64 = 0
        for byte in bytes.reversed() { result = (result << 8) | UInt64(byte) }
        return result
    }

    private mutating func readBigEndian64() throws(PickleError) -> UInt64 {
        let bytes = try readBytes(8)
        var result: UInt64 = 0
        for byte in bytes { result = (result << 8) | UInt64(byte) }
        return result
    }

    /// The bytes up to (not including) the next `\n`, which is consumed.
    private mutating func readLine() throws(PickleError) -> ArraySlice<UInt8> {
        guard let end = input[position...].firstIndex(of: UInt8(ascii: "\n")) else {
            throw fail(.truncated, "pickle data was truncated (no newline after \(opcodeName)'s argument)")
        }
        let line = input[position..<end]
        position = end + 1
        return line
    }

    /// The argument of a numeric text opcode (`INT`, `LONG`, `FLOAT`, `PUT`, `GET`). CPython parses
    /// these as C strings, so a NUL byte ends the number and the rest of the line is ignored.
    private mutating func readNumberLine() throws(PickleError) -> ArraySlice<UInt8> {
        Self.untilNUL(try readLine())
    }

    /// The bytes before the first NUL (all of them when there is none).
    private static func untilNUL(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        if let nul = line.firstIndex(of: 0) { return line[..<nul] }
        return line
    }

    /// A declared str/bytes length, checked against the input left and ``PickleLimits/maximumLength``.
    private mutating func checkedLength(_ length: UInt64) throws(PickleError) -> Int {
        guard length <= UInt64(remaining) else {
            throw fail(.truncated, "declared length \(length) but only \(remaining) bytes remain")
        }
        guard length <= UInt64(max(limits.maximumLength, 0)) else { throw tooLong(Int(length)) }
        return Int(length)
    }

    /// A `LONG1`/`LONG4` payload of `count` bytes.
    private mutating func readInteger(_ count: Int) throws(PickleError) -> PythonValue {
        guard count <= remaining else {
            throw fail(.truncated, "declared length \(count) but only \(remaining) bytes remain")
        }
        guard count <= max(limits.maximumIntegerBytes, 0) else {
            throw fail(.limitExceeded, "integer of \(count) bytes exceeds the limit of \(limits.maximumIntegerBytes)")
        }
        let bytes = try readBytes(count)
        if bytes.count <= 8 {
            guard let last = bytes.last else { return .int(0) }
            var result: UInt64 = last & 0x80 != 0 ? ~0 : 0
            for byte in bytes.reversed() { result = (result << 8) | UInt64(byte) }
            return .int(Int(Int64(bitPattern: result)))
        }
        let big = PythonBigInt(twosComplementLittleEndian: Array(bytes))
        if let small = big.int64 { return .int(Int(small)) }
        return .bigInt(big)
    }

    // MARK: - Errors

    var opcodeName: String {
        PickleOpcode(rawValue: opcodeByte)?.name ?? Self.hexName(opcodeByte)
    }

    static func hexName(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return "0x" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0x0f)])
    }

    func fail(_ code: PickleError.Code, _ message: String) -> PickleError {
        PickleError(code, offset: opcodeOffset, opcode: opcodeName, message)
    }

    private func truncated(_ needed: Int) -> PickleError {
        fail(.truncated, "pickle data was truncated (\(opcodeName) needs \(needed) more bytes, \(remaining) remain)")
    }

    private func tooLong(_ length: Int) -> PickleError {
        fail(.limitExceeded, "length \(length) exceeds the limit of \(limits.maximumLength) bytes")
    }
}
