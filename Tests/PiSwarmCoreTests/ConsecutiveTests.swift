import Testing

@testable import PiSwarmCore

/// FIRST+ values, as the cluster file and `node add` read them: one parser for both.
@Suite struct ConsecutiveTests {
  @Test(arguments: [
    ("10.42.0.12+", 3, true, Result<[String], Consecutive.Problem>.success(["10.42.0.12", "10.42.0.13", "10.42.0.14"])),
    ("10.42.0.255+", 2, true, .success(["10.42.0.255", "10.42.1.0"])),
    ("10.42.0.12", 1, false, .success(["10.42.0.12"])),
    ("10.42.0.12", 3, true, .failure(.rangeNeedsPlus)),
    ("10.42.0.12+", 1, false, .failure(.plusNeedsRange)),
    ("10.42.0+", 3, true, .failure(.malformed)),
    ("+", 3, true, .failure(.malformed)),
    ("255.255.255.254+", 3, true, .failure(.runsOut(first: "255.255.255.254"))),
  ])
  func addresses(raw: String, count: Int, isRange: Bool, expected: Result<[String], Consecutive.Problem>) {
    #expect(IPv4Address.consecutive(raw, count: count, isRange: isRange).map { $0.map(\.description) } == expected)
  }

  @Test(arguments: [
    ("b8:27:eb:00:00:ff+", 2, true, Result<[String], Consecutive.Problem>.success(["b8:27:eb:00:00:ff", "b8:27:eb:00:01:00"])),
    ("B8-27-EB-00-00-02", 1, false, .success(["b8:27:eb:00:00:02"])),
    ("b8:27:eb:00:00:02", 2, true, .failure(.rangeNeedsPlus)),
    ("b8:27:eb:00:00:02+", 1, false, .failure(.plusNeedsRange)),
    ("b8:27:eb:00:00+", 2, true, .failure(.malformed)),
    ("b8:27:eb:ff:ff:ff+", 2, true, .failure(.runsOut(first: "b8:27:eb:ff:ff:ff"))),
  ])
  func macAddresses(raw: String, count: Int, isRange: Bool, expected: Result<[String], Consecutive.Problem>) {
    #expect(MACAddress.consecutive(raw, count: count, isRange: isRange).map { $0.map(\.description) } == expected)
  }

  @Test func aRangeOfOneIsStillARange() {
    #expect(IPv4Address.consecutive("10.0.0.1", count: 1, isRange: true) == .failure(.rangeNeedsPlus))
  }

  @Test func rangeNamesAreCheckedAtBothEnds() throws {
    #expect(try #require(HostRange.parse("node[01-10]")).get().nameProblem == nil)
    #expect(try #require(HostRange.parse("Node[01-10]")).get().nameProblem != nil)
    #expect(try #require(HostRange.parse("-[1-2]")).get().nameProblem != nil)
  }
}
