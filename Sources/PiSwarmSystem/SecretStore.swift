import Foundation
import PiSwarmCore

#if canImport(Glibc)
  import Glibc
#endif

/// The `secrets` file in the state directory: 0600, owned by the user piswarm runs as, written
/// atomically. A file others can read is refused, as OpenSSH refuses a readable private key.
public struct SecretStore: Sendable {
  public var stateDirectory: String

  public init(stateDirectory: String) {
    self.stateDirectory = stateDirectory
  }

  public var path: String { stateDirectory + "/" + SecretsFile.name }

  /// Every stored secret; none when the file does not exist.
  public func all() throws(PiSwarmError) -> [String: String] {
    var info = stat()
    guard lstat(path, &info) == 0 else {
      if errno == ENOENT { return [:] }
      throw PiSwarmError(.system, "cannot read \(path)", cause: String(cString: strerror(errno)))
    }
    guard info.st_mode & S_IFMT == S_IFREG else {
      throw PiSwarmError(
        .system, "\(path) is not a regular file", advice: "remove it and store the secrets again with `piswarm secret set NAME`")
    }
    guard info.st_uid == geteuid(), info.st_mode & 0o077 == 0 else {
      throw PiSwarmError(
        .system, "\(path) can be read by others (mode \(String(info.st_mode & 0o777, radix: 8)))",
        advice:
          "run `chmod 600 \(path)` (and `chown` it to the user running piswarm); consider the secrets in it exposed and change them"
      )
    }
    let data = try Files.read(path)
    return try SecretsFile.parse(String(decoding: data, as: UTF8.self), path: path)
  }

  /// The secret named `name`.
  public func secret(_ name: String) throws(PiSwarmError) -> Secret {
    guard let value = try all()[name] else {
      throw PiSwarmError(
        .notFound, "no secret named \"\(name)\" in \(path)",
        advice: "store it with `piswarm secret set \(name)` (the value is read from stdin)")
    }
    return Secret(name: name, value: value)
  }

  /// Stores (or replaces) a secret.
  public func set(_ secret: Secret) throws(PiSwarmError) {
    guard Secret.isValidName(secret.name) else {
      throw PiSwarmError(
        .invalidInput, "\"\(secret.name)\" is not a secret name",
        advice: "use lowercase letters, digits, '.', '_' and '-', e.g. poe-community")
    }
    var secrets = try all()
    secrets[secret.name] = secret.value
    try write(secrets)
  }

  /// Removes a secret; returns whether it was there.
  @discardableResult
  public func remove(_ name: String) throws(PiSwarmError) -> Bool {
    var secrets = try all()
    guard secrets.removeValue(forKey: name) != nil else { return false }
    try write(secrets)
    return true
  }

  private func write(_ secrets: [String: String]) throws(PiSwarmError) {
    try Files.makePrivateDirectory(stateDirectory)
    try AtomicFile.write(SecretsFile.render(secrets), to: path, mode: 0o600)
  }
}
