/// Power control settings: a driver and its string settings (`on`, `off`, `port`, …).
public struct PowerConfig: Hashable, Sendable {
  /// The drivers cluster.yml may name: one per row of `PowerDriverKeys`.
  public static var drivers: [String] { PowerDriverKeys.drivers }

  public var driver: String
  public var settings: [String: String]

  public init(driver: String, settings: [String: String] = [:]) {
    self.driver = driver
    self.settings = settings
  }

  public static let none = PowerConfig(driver: "none")

  /// A node's settings laid over the defaults: the node's driver wins when given, and its
  /// settings override the defaults' one by one.
  public func overlaid(with node: PartialPower?) -> PowerConfig {
    guard let node else { return self }
    var merged = node.driver == nil || node.driver == driver ? settings : [:]
    for (key, value) in node.settings { merged[key] = value }
    return PowerConfig(driver: node.driver ?? driver, settings: merged)
  }
}
