// RDB on-disk constants. See docs/formats/snapshot.md for the grammar they belong to.
//
// These values are stored in files written by every Redis since 2.x and by Cairn:
// they are frozen. Never renumber them; add new ones only with a new RDB version.

/// The RDB versions this reader understands. 10 is what Redis 7.0 writes (and Cairn's default),
/// 11 is Redis 7.2 / Valkey 7.2–8.1, 12 is Redis 7.4.
public enum RDBVersion {
    public static let minimum = 1
    public static let maximum = 12
    /// First version whose files end with an 8-byte CRC64 after the EOF opcode.
    public static let firstWithChecksum = 5
}

/// Value type byte written before each key (the "encoding" of the value on disk).
public enum RDBType: UInt8, Sendable {
    case string = 0
    case list = 1               // len + strings (Redis < 3.2)
    case set = 2                // len + strings
    case zset = 3               // len + (member, string double); Redis < 4.0
    case hash = 4               // len + (field, value)
    case zset2 = 5              // len + (member, 8-byte LE double); RDB 8+
    case moduleV1 = 6           // 4.0 RC module format: refused
    case module2 = 7            // module id + typed items + EOF
    // 8 was never used on disk.
    case hashZipmap = 9         // zipmap blob (Redis <= 2.4)
    case listZiplist = 10       // ziplist blob
    case setIntset = 11         // intset blob
    case zsetZiplist = 12       // ziplist of (member, score) pairs
    case hashZiplist = 13       // ziplist of (field, value) pairs
    case listQuicklist = 14     // len + ziplist blobs (RDB 7–9)
    case streamListpacks = 15   // stream v1 (RDB 9)
    case hashListpack = 16      // listpack of (field, value) pairs (RDB 10+)
    case zsetListpack = 17      // listpack of (member, score) pairs (RDB 10+)
    case listQuicklist2 = 18    // len + (container, blob) (RDB 10+)
    case streamListpacks2 = 19  // stream v2: + first id, max deleted id, entries added, entries read
    case setListpack = 20       // listpack of members (RDB 11+)
    case streamListpacks3 = 21  // stream v3: + consumer active time
    case hashMetadataPreGA = 22     // 7.4 RC: len + (absolute ttl, field, value)
    case hashListpackExPreGA = 23   // 7.4 RC: listpack of (field, value, absolute ttl)
    case hashMetadata = 24          // 7.4: min expire + len + (relative ttl, field, value)
    case hashListpackEx = 25        // 7.4: min expire + listpack of (field, value, ttl)
}

/// Opcodes share the type byte's position; they are the bytes 244...255.
public enum RDBOpcode: UInt8, Sendable {
    case slotInfo = 0xF4        // len slot, len keys, len expires (7.4 cluster)
    case function2 = 0xF5       // one string: a library's source
    case functionPreGA = 0xF6   // 7.0 RC function format: refused
    case moduleAux = 0xF7       // len module id, len when-opcode, len when, typed items, EOF
    case idle = 0xF8            // len seconds (LRU)
    case freq = 0xF9            // 1 byte (LFU)
    case aux = 0xFA             // string key, string value
    case resizeDB = 0xFB        // len db size, len expires size
    case expireTimeMs = 0xFC    // 8-byte LE ms
    case expireTime = 0xFD      // 4-byte LE seconds (legacy)
    case selectDB = 0xFE        // len db number
    case eof = 0xFF             // then 8-byte LE CRC64 (RDB 5+)
}

/// Length encoding: the top two bits of the first byte.
///
///   00llllll                  6-bit length
///   01llllll llllllll         14-bit length, big-endian
///   10000000 + 4 bytes        32-bit length, big-endian
///   10000001 + 8 bytes        64-bit length, big-endian
///   11eeeeee                  special string encoding e (below)
enum RDBLength {
    static let len6: UInt8 = 0
    static let len14: UInt8 = 1
    static let len32: UInt8 = 0x80
    static let len64: UInt8 = 0x81
    static let encodedValue: UInt8 = 3
}

/// Special string encodings (11eeeeee).
enum RDBStringEncoding {
    static let int8: UInt8 = 0      // C0 + 1 byte
    static let int16: UInt8 = 1     // C1 + 2 bytes LE
    static let int32: UInt8 = 2     // C2 + 4 bytes LE
    static let lzf: UInt8 = 3       // C3 + len(compressed) + len(original) + data
}

/// Item opcodes inside a module value or module aux payload (module API v2 serialization).
enum RDBModuleOpcode {
    static let eof: UInt64 = 0
    static let sint: UInt64 = 1
    static let uint: UInt64 = 2
    static let float: UInt64 = 3
    static let double: UInt64 = 4
    static let string: UInt64 = 5
}

/// Quicklist 2 node containers.
enum RDBQuicklistContainer {
    static let plain: UInt64 = 1    // the string is one element
    static let packed: UInt64 = 2   // the string is a listpack
}

/// Stream listpack entry flags (t_stream.c).
enum RDBStreamFlag {
    static let deleted: Int64 = 1
    static let sameFields: Int64 = 2
}

/// Module type names: 9 characters from this set, 6 bits each, above a 10-bit encoding version.
enum RDBModuleID {
    static let charset = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

    static func name(_ id: UInt64) -> String {
        var v = id >> 10
        var chars = [Character](repeating: "A", count: 9)
        for j in stride(from: 8, through: 0, by: -1) {
            chars[j] = charset[Int(v & 63)]
            v >>= 6
        }
        return String(chars)
    }
}

/// Hash field expiry times are limited to 48 bits (EB_EXPIRE_TIME_MAX in Redis 7.4).
enum RDBHashFieldTTL {
    static let maxExpireAtMs: UInt64 = (1 << 48) - 1
}
