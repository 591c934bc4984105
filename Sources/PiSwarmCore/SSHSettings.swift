public struct SSHSettings: Hashable, Sendable {
  public var user: String
  /// The private key path as written (`~` not yet expanded); nil means the key `piswarm init`
  /// made in the state directory.
  public var key: String?

  public static let defaultUser = "root"
}
