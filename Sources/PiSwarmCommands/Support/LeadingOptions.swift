import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// `piswarm --file PATH node ls` puts the shared options before the subcommand. ArgumentParser
/// only reads a subcommand's own options, so leading `--file`/`-f` and `--state-dir` become the
/// environment variables they stand for (PISWARM_FILE, PISWARM_STATE_DIR) and are removed.
public enum LeadingOptions {
  public static let variables = ["--file": "PISWARM_FILE", "-f": "PISWARM_FILE", "--state-dir": "PISWARM_STATE_DIR"]

  /// The arguments without the leading shared options, and the variables they set.
  public static func split(_ arguments: [String]) -> (arguments: [String], environment: [String: String]) {
    var rest = arguments[...]
    var environment: [String: String] = [:]
    while let first = rest.first {
      if let variable = variables[first], rest.count >= 2 {
        environment[variable] = rest[rest.index(after: rest.startIndex)]
        rest = rest.dropFirst(2)
      } else if let equals = first.firstIndex(of: "="), let variable = variables[String(first[..<equals])] {
        environment[variable] = String(first[first.index(after: equals)...])
        rest = rest.dropFirst()
      } else {
        break
      }
    }
    return (Array(rest), environment)
  }

  /// Applies `split` to this process: sets the variables, returns the arguments to parse.
  public static func apply(_ arguments: [String]) -> [String] {
    let (rest, environment) = split(arguments)
    for (key, value) in environment { setenv(key, value, 1) }
    return rest
  }
}
