/// Column names and type OIDs of a result, shared by its rows.
public struct PostgresColumns: Sendable, Hashable {
    /// Column names in order.
    public let names: [String]
    /// Column type OIDs in order.
    public let types: [UInt32]

    func index(of name: String) -> Int? { names.firstIndex(of: name) }
}

/// One row of a result: the text form of each column, copied out of libpq.
public struct PostgresRow: Sendable {
    /// The result's columns.
    public let columns: PostgresColumns
    /// Each column's text form; `nil` is SQL `NULL`.
    public let values: [String?]

    /// Decodes column `name` as `T`. `Optional` types decode `NULL` as `nil`; other types throw.
    public func decode<T: PostgresDecodable>(_ name: String, as type: T.Type = T.self) throws(PostgresError) -> T {
        guard let index = columns.index(of: name) else {
            throw PostgresError(.decoding, "no column named '\(name)' (columns: \(columns.names.joined(separator: ", ")))")
        }
        return try decode(index, as: type)
    }

    /// Decodes column number `index` as `T`.
    public func decode<T: PostgresDecodable>(_ index: Int, as type: T.Type = T.self) throws(PostgresError) -> T {
        guard values.indices.contains(index) else {
            throw PostgresError(.decoding, "column index \(index) is out of range")
        }
        guard let text = values[index] else {
            if let null = T.postgresNull { return null }
            throw PostgresError(.decoding, "column '\(columns.names[index])' is NULL but \(T.self) is not optional")
        }
        do {
            return try T(postgresText: text, type: columns.types[index])
        } catch {
            throw PostgresError(.decoding, "column '\(columns.names[index])': \(error.message)")
        }
    }
}

/// The outcome of one statement: its rows (if any) and the number of rows it affected.
public struct PostgresResult: Sendable, RandomAccessCollection {
    /// Column metadata.
    public let columns: PostgresColumns
    /// The rows returned.
    public let rows: [PostgresRow]
    /// Rows inserted, updated or deleted (`PQcmdTuples`), or 0.
    public let affectedRows: Int

    public var startIndex: Int { rows.startIndex }
    public var endIndex: Int { rows.endIndex }
    public subscript(position: Int) -> PostgresRow { rows[position] }
}
