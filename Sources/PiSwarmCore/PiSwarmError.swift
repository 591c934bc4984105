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

  public var code: Code
  public var message: String
  public var advice: String?
  /// The underlying cause as text (an OS error, a tool's stderr).
  public var cause: String?

  public init(
    _ code: Code, _ message: String, advice: String? = nil, cause: String? = nil
  ) {
    self.code = code
    self.message = message
    self.advice = advice
    self.cause = cause
  }

  public var description: String {
    var text = message
    if let cause { text += ": \(cause)" }
    if let advice { text += "\n  hint: \(advice)" }
    return text
  }
}
