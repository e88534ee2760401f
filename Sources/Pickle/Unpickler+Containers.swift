/// The unpickler's containers: tuples, lists, dicts and sets built in place, with Python's
/// hashing rules for keys and members.
extension Unpickler {
    // MARK: - Containers

    /// Adds a container to the arena and returns its index.
    mutating func makeContainer(_ kind: PickleContainer.Kind, _ items: [PickleItem] = []) -> Int {
        containers.append(PickleContainer(kind, items))
        return containers.count - 1
    }

    /// A tuple of scalars is an immutable value at once; one holding containers stays a reference.
    mutating func makeTuple(_ items: [PickleItem]) -> PickleItem {
        if items.allSatisfy(Self.isScalar) {
            return .value(.tuple(items.map(Self.scalarValue)))
        }
        return .container(makeContainer(.tuple, items))
    }

    /// Whether an item is a value without nested containers.
    static func isScalar(_ item: PickleItem) -> Bool {
        switch item {
        case .container: return false
        case .value(.tuple), .value(.frozenset), .value(.list), .value(.dict), .value(.set): return false
        case .value: return true
        }
    }

    static func scalarValue(_ item: PickleItem) -> PythonValue {
        if case .value(let value) = item { return value }
        return .none
    }

    /// The arena index of the container of `kind` at stack position `index`.
    mutating func container(at index: Int, _ kind: PickleContainer.Kind) throws(PickleError) -> Int {
        guard index >= 0, index < stack.count else { throw underflow() }
        guard case .container(let id) = stack[index], containers[id].kind == kind else {
            throw fail(.invalid, "target is not a \(kind.typeName)")
        }
        return id
    }

    mutating func insertPairs(_ items: ArraySlice<PickleItem>, into dict: Int) throws(PickleError) {
        var index = items.startIndex
        while index + 1 < items.endIndex {
            try insert(items[index], value: items[index + 1], into: dict)
            index += 2
        }
    }

    /// Adds a dict entry (`value` non-nil) or a set element. Like Python, an equal scalar key keeps
    /// its position and takes the new value; an equal set element is not added again.
    mutating func insert(_ key: PickleItem, value: PickleItem?, into id: Int) throws(PickleError) {
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
    static func dedupeKey(_ item: PickleItem) -> PythonValue? {
        guard case .value(let value) = item else { return nil }
        return normalisedKey(value)
    }

    static func normalisedKey(_ value: PythonValue) -> PythonValue? {
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
    mutating func checkHashable(_ item: PickleItem) throws(PickleError) {
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
    static func unhashableScalar(_ value: PythonValue) -> String? {
        switch value {
        case .bytearray: return "bytearray"
        case .tuple(let elements): return elements.lazy.compactMap(unhashableScalar).first
        default: return nil
        }
    }
}
