/// Pickle opcodes (protocols 0–5), with the names `pickletools` uses.
enum PickleOpcode: UInt8 {
    case mark = 0x28, stop = 0x2e, pop = 0x30, popMark = 0x31, dup = 0x32
    case float = 0x46, int = 0x49, binInt = 0x4a, binInt1 = 0x4b, long = 0x4c, binInt2 = 0x4d
    case none = 0x4e, persID = 0x50, binPersID = 0x51, reduce = 0x52, string = 0x53
    case binString = 0x54, shortBinString = 0x55, unicode = 0x56, binUnicode = 0x58
    case append = 0x61, build = 0x62, global = 0x63, dict = 0x64, emptyDict = 0x7d
    case appends = 0x65, get = 0x67, binGet = 0x68, inst = 0x69, longBinGet = 0x6a
    case list = 0x6c, emptyList = 0x5d, obj = 0x6f, put = 0x70, binPut = 0x71, longBinPut = 0x72
    case setItem = 0x73, tuple = 0x74, emptyTuple = 0x29, setItems = 0x75, binFloat = 0x47
    case proto = 0x80, newObj = 0x81, ext1 = 0x82, ext2 = 0x83, ext4 = 0x84
    case tuple1 = 0x85, tuple2 = 0x86, tuple3 = 0x87, newTrue = 0x88, newFalse = 0x89
    case long1 = 0x8a, long4 = 0x8b
    case binBytes = 0x42, shortBinBytes = 0x43
    case shortBinUnicode = 0x8c, binUnicode8 = 0x8d, binBytes8 = 0x8e, emptySet = 0x8f
    case addItems = 0x90, frozenSet = 0x91, newObjEx = 0x92, stackGlobal = 0x93, memoize = 0x94
    case frame = 0x95, byteArray8 = 0x96, nextBuffer = 0x97, readonlyBuffer = 0x98

    /// The `pickletools` name, e.g. `"STACK_GLOBAL"`.
    var name: String {
        switch self {
        case .mark: "MARK"
        case .stop: "STOP"
        case .pop: "POP"
        case .popMark: "POP_MARK"
        case .dup: "DUP"
        case .float: "FLOAT"
        case .int: "INT"
        case .binInt: "BININT"
        case .binInt1: "BININT1"
        case .long: "LONG"
        case .binInt2: "BININT2"
        case .none: "NONE"
        case .persID: "PERSID"
        case .binPersID: "BINPERSID"
        case .reduce: "REDUCE"
        case .string: "STRING"
        case .binString: "BINSTRING"
        case .shortBinString: "SHORT_BINSTRING"
        case .unicode: "UNICODE"
        case .binUnicode: "BINUNICODE"
        case .append: "APPEND"
        case .build: "BUILD"
        case .global: "GLOBAL"
        case .dict: "DICT"
        case .emptyDict: "EMPTY_DICT"
        case .appends: "APPENDS"
        case .get: "GET"
        case .binGet: "BINGET"
        case .inst: "INST"
        case .longBinGet: "LONG_BINGET"
        case .list: "LIST"
        case .emptyList: "EMPTY_LIST"
        case .obj: "OBJ"
        case .put: "PUT"
        case .binPut: "BINPUT"
        case .longBinPut: "LONG_BINPUT"
        case .setItem: "SETITEM"
        case .tuple: "TUPLE"
        case .emptyTuple: "EMPTY_TUPLE"
        case .setItems: "SETITEMS"
        case .binFloat: "BINFLOAT"
        case .proto: "PROTO"
        case .newObj: "NEWOBJ"
        case .ext1: "EXT1"
        case .ext2: "EXT2"
        case .ext4: "EXT4"
        case .tuple1: "TUPLE1"
        case .tuple2: "TUPLE2"
        case .tuple3: "TUPLE3"
        case .newTrue: "NEWTRUE"
        case .newFalse: "NEWFALSE"
        case .long1: "LONG1"
        case .long4: "LONG4"
        case .binBytes: "BINBYTES"
        case .shortBinBytes: "SHORT_BINBYTES"
        case .shortBinUnicode: "SHORT_BINUNICODE"
        case .binUnicode8: "BINUNICODE8"
        case .binBytes8: "BINBYTES8"
        case .emptySet: "EMPTY_SET"
        case .addItems: "ADDITEMS"
        case .frozenSet: "FROZENSET"
        case .newObjEx: "NEWOBJ_EX"
        case .stackGlobal: "STACK_GLOBAL"
        case .memoize: "MEMOIZE"
        case .frame: "FRAME"
        case .byteArray8: "BYTEARRAY8"
        case .nextBuffer: "NEXT_BUFFER"
        case .readonlyBuffer: "READONLY_BUFFER"
        }
    }
}
