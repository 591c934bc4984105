/// The one error type of piswarm's libraries: a code, a message that names the offending value,
/// optional advice on what to do next, and an optional underlying cause.
public struct PiSwarmError: Error, Sendable, CustomStringConvertible {
  public enum Code: String, Sendable {
    /// Bad input from the user: the cluster file, a flag, an argument. Exit 64.
    case invalidInput
    /// Something on this machine failed: a file, a process, the state store.
    case system
    /// Another piswarm holds the state lock.
    case locked
    /// A named thing does not exist.
    case notFound
    /// A named thing exists already.
    case exists
  }

  /// A cause that is only text: what a tool wrote to stderr, an OS error's description. Code
  /// that decides on a cause matches its type (`DockerAPIError`, `PiSwarmError`), not this text.
  public struct Text: Error, Sendable, CustomStringConvertible, Equatable {
    public var text: String
    public init(_ text: String) { self.text = text }
    public var description: String { text }
  }

  public var code: Code
  public var message: String
  public var advice: String?
  /// The underlying error, typed: match it with `as?`.
  public var cause: (any Error)?

  public init(_ code: Code, _ message: String, advice: String? = nil, cause: (any Error)? = nil) {
    self.code = code
    self.message = message
    self.advice = advice
    self.cause = cause
  }

  /// An error whose cause is text (a tool's stderr); nil or empty text is no cause.
  public init(_ code: Code, _ message: String, advice: String? = nil, cause text: String?) {
    self.init(code, message, advice: advice, cause: text.flatMap { $0.isEmpty ? nil : Text($0) })
  }

  /// The cause as text, for messages.
  public var causeText: String? { cause.map { "\($0)" } }

  public var description: String {
    var text = message
    if let causeText { text += ": \(causeText)" }
    if let advice { text += "\n  hint: \(advice)" }
    return text
  }
}
