/// A value on the unpickler's stack or in its memo: a finished immutable value, or a container
/// that later opcodes may still fill (`APPEND`, `SETITEMS`, `ADDITEMS` through a memo `GET` must
/// see one shared object, as in Python).
enum PickleItem {
    /// A scalar, or a tuple/frozenset whose elements are all scalars.
    case value(PythonValue)
    /// A container, by its index in the unpickler's container arena (shared until `STOP`).
    case container(Int)
}

/// A container under construction, stored in the unpickler's arena and referred to by index, so
/// that sharing needs no reference counting and no structure can be deep enough to make its
/// release recurse. Elements are kept as items; a dict's items alternate key and value.
/// Converted to ``PythonValue`` once, after `STOP`.
struct PickleContainer {
    /// Which Python type this becomes.
    enum Kind {
        case list, tuple, dict, set, frozenset

        /// The Python type name, for messages.
        var typeName: String {
            switch self {
            case .list: "list"
            case .tuple: "tuple"
            case .dict: "dict"
            case .set: "set"
            case .frozenset: "frozenset"
            }
        }
    }

    /// Conversion progress: not started, on the current path (seeing it again is a cycle), done.
    enum State {
        case fresh, visiting, done
    }

    let kind: Kind
    var items: [PickleItem]
    /// For dicts and sets with many entries: scalar key (or element) → its index in `items`.
    var index: [PythonValue: Int]?
    var state = State.fresh
    /// For tuples used as keys: already found hashable (or being checked).
    var hashChecked = false
    /// After conversion: the value, its nesting depth (1 for a container of scalars) and its
    /// element count including nested containers' elements.
    var result = PythonValue.none
    var depth = 0
    var size = 0

    init(_ kind: Kind, _ items: [PickleItem] = []) {
        self.kind = kind
        self.items = items
    }
}
