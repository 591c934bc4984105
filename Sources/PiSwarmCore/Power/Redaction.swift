import Foundation

extension PiSwarmError {
  /// This error with every value of `secrets` (and its base64 form, as basic auth sends it)
  /// replaced by the secret's name, in the message, the advice and the cause: for errors that
  /// quote what a server or a tool said, which might echo a credential back.
  public func redacting(_ secrets: [Secret]) -> PiSwarmError {
    let secrets = secrets.filter { !$0.value.isEmpty }
    guard !secrets.isEmpty else { return self }
    var copy = self
    copy.message = Self.redact(message, secrets)
    copy.advice = advice.map { Self.redact($0, secrets) }
    if let cause, !(cause is PiSwarmError) {
      copy.cause = Text(Self.redact("\(cause)", secrets))
    } else if let inner = cause as? PiSwarmError {
      copy.cause = inner.redacting(secrets)
    }
    return copy
  }

  static func redact(_ text: String, _ secrets: [Secret]) -> String {
    var text = text
    for secret in secrets.sorted(by: { $0.value.count > $1.value.count }) {
      text = text.replacingOccurrences(of: secret.value, with: "\(secret)")
      let encoded = Data(secret.value.utf8).base64EncodedString()
      if encoded.count >= 8 { text = text.replacingOccurrences(of: encoded, with: "\(secret)") }
    }
    return text
  }
}
