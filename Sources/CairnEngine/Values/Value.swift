// Values stored under keys.
//
// Strings that are canonical 64-bit integers ("123", not "0123" or "+1") are kept as integers,
// like Redis's OBJ_ENCODING_INT: 8 bytes instead of a byte string, and INCR needs no parsing.
// Collections are final classes (Values/HashValue.swift, ListValue.swift, SetValue.swift,
// ZSetValue.swift) changed in place by their commands; every case must round-trip through
// RDB, AOF and replication.

public enum Value {
    case string(Bytes)
    case int(Int64)
    case hash(HashValue)
    case list(ListValue)
    case set(SetValue)
    case zset(ZSetValue)

    /// Builds a string value, choosing the integer form when the bytes are a canonical integer.
    @inlinable
    public static func string(compacting bytes: Bytes) -> Value {
        if bytes.count <= 20, let v = bytes.withUnsafeBytes({ parseInt64($0) }) { return .int(v) }
        return .string(bytes)
    }

    /// The TYPE reply.
    public var typeName: String {
        switch self {
        case .string, .int: return "string"
        case .hash: return "hash"
        case .list: return "list"
        case .set: return "set"
        case .zset: return "zset"
        }
    }

    /// The OBJECT ENCODING reply, with Redis's names.
    public var encodingName: String {
        switch self {
        case .int: return "int"
        case .string(let b): return b.count <= 44 ? "embstr" : "raw"
        case .hash(let h): return h.encodingName
        case .list(let l): return l.encodingName
        case .set(let s): return s.encodingName
        case .zset(let z): return z.encodingName
        }
    }

    /// The value as a byte string (strings only).
    @inlinable
    public var stringBytes: Bytes? {
        switch self {
        case .string(let b): return b
        case .int(let v): return Bytes(v)
        case .hash, .list, .set, .zset: return nil
        }
    }
}
