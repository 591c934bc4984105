/// Power settings as written on one node, where every key is optional.
public struct PartialPower: Hashable, Sendable {
  public var driver: String?
  public var settings: [String: String]

  public init(driver: String?, settings: [String: String]) {
    self.driver = driver
    self.settings = settings
  }
}
