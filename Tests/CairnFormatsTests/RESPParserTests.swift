import XCTest
@testable import CairnFormats

final class RESPParserTests: XCTestCase {
}
