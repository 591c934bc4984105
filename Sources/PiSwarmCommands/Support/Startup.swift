import PiSwarmSystem

/// What the process sets up before any command runs.
public enum Startup {
  /// SIGPIPE ignored process-wide: a vanished node or a closed stdout is an EPIPE that the
  /// writer handles, never the end of piswarm (exit 141) in the middle of a run.
  public static func prepareProcess() {
    Signals.ignoreBrokenPipes()
  }
}
