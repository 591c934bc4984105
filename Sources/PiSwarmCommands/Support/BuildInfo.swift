import CPiSwarmBuildInfo

/// What this binary was built from: the version and the commit `make deb` compiled in.
public enum BuildInfo {
  public static let version = String(cString: piswarm_build_version())
  /// Empty when the build was not told (a plain `swift build`).
  public static let commit = String(cString: piswarm_build_commit())

  /// `--version`'s line: "0.1.0 (commit 1a2b3c4d5e6f)", or "0.1.0 (unknown commit)".
  public static var versionLine: String { line(version: version, commit: commit) }

  static func line(version: String, commit: String) -> String {
    "\(version) (\(commit.isEmpty ? "unknown commit" : "commit \(commit)"))"
  }
}
