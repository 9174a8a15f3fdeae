// Helpers shared by the RDB test files: fixture lookup and value normalisation.
import Foundation
import XCTest
@testable import CairnFormats

enum RDBFixtures {
    /// Fixtures/redis-rdb of the package this file belongs to (found from #filePath); when the
    /// test file is a symlink into another package, the main checkout's copy.
    static let directory: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let candidate = url.appendingPathComponent("Fixtures/redis-rdb").path
        if FileManager.default.fileExists(atPath: candidate) { return candidate }
        return "/work/main/Fixtures/redis-rdb"
    }()

    static func bytes(_ name: String) throws -> [UInt8] {
        let path = directory + "/" + name
        guard let data = FileManager.default.contents(atPath: path) else {
            throw XCTSkip("fixture \(path) missing")
        }
        return [UInt8](data)
    }
}

extension Bytes {
    static func repeating(_ c: Character, _ n: Int) -> Bytes { Bytes(String(repeating: c, count: n)) }
}

/// Values in a canonical order where the file's order is not meaningful (hash-table sets and
/// hashes, intsets, zsets), so two readings can be compared.
func normalized(_ v: RDBValue) -> RDBValue {
    switch v {
    case .set(let s): return .set(s.sorted())
    case .hash(let h): return .hash(h.sorted { $0.field < $1.field })
    case .zset(let z): return .zset(z.sorted { $0.score != $1.score ? $0.score < $1.score : $0.member < $1.member })
    default: return v
    }
}

func strings(_ items: [String]) -> [Bytes] { items.map { Bytes($0) } }

/// Every event of a reader until the end, or the error.
func allEvents(_ bytes: [UInt8], verifyChecksum: Bool = true) throws -> [RDBEvent] {
    let r = RDBReader(source: RDBMemorySource(bytes), verifyChecksum: verifyChecksum)
    var out = [RDBEvent]()
    while let e = try r.next() { out.append(e) }
    return out
}
