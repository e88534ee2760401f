/// The unpickler's memo and the conversion of finished items into ``PythonValue``s.
extension Unpickler {
    // MARK: - Memo

    mutating func remember(_ item: PickleItem, at index: Int) throws(PickleError) {
        if memo[index] == nil && memo.count >= limits.maximumMemoEntries {
            throw fail(.limitExceeded, "more than \(limits.maximumMemoEntries) memo entries")
        }
        memo[index] = item
    }

    mutating func recall(_ index: Int) throws(PickleError) {
        guard let item = memo[index] else { throw fail(.invalid, "memo value not found at index \(index)") }
        try push(item)
    }

    // MARK: - Conversion

    /// Turns the `STOP` item into a value, rejecting cycles and enforcing depth and size limits.
    /// Iterative, so hostile nesting cannot exhaust the call stack.
    mutating func finish(_ item: PickleItem) throws(PickleError) -> PythonValue {
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
    mutating func complete(_ id: Int) throws(PickleError) {
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
}
