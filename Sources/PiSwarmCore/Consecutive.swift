/// A value given once for a whole host range, written FIRST+ (`ip: 10.42.0.12+`,
/// `mac: b8:27:eb:00:00:02+`): the range's first node gets FIRST, each next node the value after.
/// The cluster file and `piswarm node add` read such values through this one function; each says
/// what went wrong in its own words.
public enum Consecutive {
  public enum Problem: Error, Equatable, Sendable {
    /// A range's value without the trailing "+".
    case rangeNeedsPlus
    /// "+" on a single node's value.
    case plusNeedsRange
    /// What is left without the "+" is not a value of the kind.
    case malformed
    /// The values from `first` run out before the range's last node.
    case runsOut(first: String)
  }

  /// The `count` values `raw` stands for, one per node (one value when `isRange` is false).
  public static func values<Value: CustomStringConvertible>(
    _ raw: String, count: Int, isRange: Bool, parse: (String) -> Value?, advance: (Value, Int) -> Value?
  ) -> Result<[Value], Problem> {
    let incrementing = raw.hasSuffix("+")
    if isRange && !incrementing { return .failure(.rangeNeedsPlus) }
    if !isRange && incrementing { return .failure(.plusNeedsRange) }
    guard let first = parse(incrementing ? String(raw.dropLast()) : raw) else { return .failure(.malformed) }
    var values: [Value] = []
    values.reserveCapacity(count)
    for offset in 0..<count {
      guard let next = advance(first, offset) else { return .failure(.runsOut(first: first.description)) }
      values.append(next)
    }
    return .success(values)
  }
}

extension IPv4Address {
  /// The addresses `raw` (one address, or FIRST+ for a range) gives `count` nodes.
  public static func consecutive(_ raw: String, count: Int, isRange: Bool) -> Result<[IPv4Address], Consecutive.Problem> {
    Consecutive.values(raw, count: count, isRange: isRange, parse: { IPv4Address($0) }, advance: { $0.advanced(by: $1) })
  }
}

extension MACAddress {
  /// The MAC addresses `raw` (one address, or FIRST+ for a range) gives `count` nodes.
  public static func consecutive(_ raw: String, count: Int, isRange: Bool) -> Result<[MACAddress], Consecutive.Problem> {
    Consecutive.values(raw, count: count, isRange: isRange, parse: { MACAddress($0) }, advance: { $0.advanced(by: $1) })
  }
}
