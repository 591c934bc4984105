/// The one place where words become shell text: for commands that must pass through a shell
/// (a remote command over SSH, a generated script), every argument is quoted here.
public enum Shell {
  /// A POSIX shell single-quoted word; plain when it only holds safe characters.
  public static func quote(_ word: String) -> String {
    let safe =
      !word.isEmpty && word.unicodeScalars.allSatisfy { $0.isASCIIAlphanumeric || "@%+=:,./_-".unicodeScalars.contains($0) }
    if safe { return word }
    return "'" + word.replacingAll(in: "'", with: "'\\''") + "'"
  }

  /// An argument vector as one shell command line, each word quoted.
  public static func command(_ arguments: [String]) -> String { arguments.map(quote).joined(separator: " ") }
}
