// swift-format-ignore-file: AlwaysUseLowerCamelCase

/// `GET /swarm/unlockkey`. A secret: never print or log it.
public struct UnlockKeyBody: Codable, Sendable {
  public var UnlockKey: String
}
