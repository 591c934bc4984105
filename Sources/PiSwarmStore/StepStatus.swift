/// How a journaled step ended.
public enum StepStatus: String, Codable, Sendable {
  /// A command's step (netboot apply, a root) that did what it had to.
  case succeeded
  /// One of `up`'s planned actions, carried out.
  case done
  case failed
  case unchanged
  /// A planned action not run: an earlier action of its node failed.
  case skipped
  /// A node the plan leaves alone, with the reason.
  case refused
}
