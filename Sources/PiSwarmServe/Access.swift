import Crypto
import Foundation
import PiSwarmCore
import PiSwarmSystem
import Synchronization

/// Who may act: a token made by piswarm (`serve-token` in the state directory, 0600) logs in,
/// and so does a one-time code that `piswarm serve --login-url` makes from it (an HMAC of a
/// nonce and an expiry, so the CLI writes nothing and serve remembers the nonces it took).
/// A login makes a session (a random cookie, HttpOnly, SameSite=Strict) with its own CSRF token.
public final class Access: Sendable {
  public static let tokenFile = "serve-token"
  public static let cookie = "piswarm_session"
  /// How long a one-time code is good for.
  public static let codeLifetime: Double = 600
  public static let sessionLifetime: Double = 12 * 3600

  let token: String
  struct Sessions {
    var byID: [String: (csrf: String, expires: Date)] = [:]
    var usedNonces: [String: Date] = [:]
  }
  let sessions = Mutex(Sessions())

  public init(token: String) { self.token = token }

  /// The state directory's token, made (0600) when there is none.
  public static func token(stateDirectory: String) throws(PiSwarmError) -> String {
    let path = stateDirectory + "/" + tokenFile
    if let text = Files.readWhole(path) {
      let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
      guard token.count >= 32 else {
        throw PiSwarmError(
          .invalidInput, "\(path) holds no usable token (fewer than 32 characters)",
          advice: "remove it; 'piswarm serve' makes a new one")
      }
      return token
    }
    try Files.makePrivateDirectory(stateDirectory)
    let token = random(32)
    try AtomicFile.write(token + "\n", to: path, mode: 0o600)
    return token
  }

  /// Hex of `bytes` random bytes from the system's generator.
  public static func random(_ bytes: Int) -> String {
    var generator = SystemRandomNumberGenerator()
    return (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
  }

  /// A one-time code: nonce.expiry.mac.
  public static func oneTimeCode(token: String, now: Date = Date()) -> String {
    let nonce = random(16)
    let expiry = String(Int(now.timeIntervalSince1970 + codeLifetime))
    return "\(nonce).\(expiry).\(mac(token, nonce + "." + expiry))"
  }

  static func mac(_ token: String, _ text: String) -> String {
    let code = HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: SymmetricKey(data: Data(token.utf8)))
    return code.map { String(format: "%02x", $0) }.joined()
  }

  /// Equal strings, in time that does not depend on where they differ.
  static func same(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8)
    let y = Array(b.utf8)
    guard x.count == y.count else { return false }
    return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
  }

  /// A new session when `token` is the token; nil otherwise.
  public func login(token given: String, now: Date = Date()) -> String? {
    guard Self.same(given.trimmingCharacters(in: .whitespacesAndNewlines), token) else { return nil }
    return newSession(now)
  }

  /// A new session when `code` is a good one-time code not used before; else why not.
  public func login(code: String, now: Date = Date()) -> Result<String, PiSwarmError> {
    let parts = code.split(separator: ".").map(String.init)
    guard parts.count == 3, let expiry = Double(parts[1]),
      Self.same(Self.mac(token, parts[0] + "." + parts[1]), parts[2])
    else { return .failure(PiSwarmError(.invalidInput, "this login link is not one piswarm made")) }
    guard now.timeIntervalSince1970 <= expiry else {
      return .failure(PiSwarmError(.invalidInput, "this login link has expired", advice: "run 'piswarm serve --login-url' again"))
    }
    let fresh = sessions.withLock { sessions in
      sessions.usedNonces = sessions.usedNonces.filter { $0.value > now }
      guard sessions.usedNonces[parts[0]] == nil else { return false }
      sessions.usedNonces[parts[0]] = Date(timeIntervalSince1970: expiry)
      return true
    }
    guard fresh else {
      return .failure(
        PiSwarmError(.invalidInput, "this login link was used already", advice: "run 'piswarm serve --login-url' again"))
    }
    return .success(newSession(now))
  }

  func newSession(_ now: Date) -> String {
    let id = Self.random(32)
    sessions.withLock { sessions in
      sessions.byID = sessions.byID.filter { $0.value.expires > now }
      sessions.byID[id] = (Self.random(32), now.addingTimeInterval(Self.sessionLifetime))
    }
    return id
  }

  /// The CSRF token of a live session.
  public func csrf(session: String?, now: Date = Date()) -> String? {
    guard let session else { return nil }
    return sessions.withLock { sessions in
      guard let entry = sessions.byID[session], entry.expires > now else { return nil }
      return entry.csrf
    }
  }

  public func logout(session: String?) {
    guard let session else { return }
    _ = sessions.withLock { $0.byID.removeValue(forKey: session) }
  }
}
