/// Rules for the paths the cluster file gives for the head (`tftp_root`, `nfs_root`,
/// `dnsmasq_conf`) and for a node's storage device: piswarm, as root, makes folders there and
/// writes them into other files whose formats split on characters a path may hold: NFS exports
/// (white space; a tab turns one export into a world-wide one), dnsmasq's configuration (commas:
/// `tftp-root=PATH,INTERFACE`), the nodes' `cmdline.txt` (`nfsroot=IP:PATH,OPTIONS`), fstab (white
/// space) and ganesha's configuration (quotes). So a path here is plain: absolute, ASCII letters,
/// digits and `/ . _ - + @`, no `.` or `..` component.
public enum HeadPath {
  /// The characters a head path may hold besides ASCII letters and digits.
  public static let punctuation: Set<Unicode.Scalar> = ["/", ".", "_", "-", "+", "@"]

  /// Folders of the operating system: never a node-root or TFTP folder, which piswarm fills,
  /// empties and exports.
  public static let systemFolders: Set<String> = [
    "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32", "/media", "/mnt", "/opt",
    "/proc", "/root", "/run", "/sbin", "/snap", "/srv", "/sys", "/tmp", "/usr", "/usr/bin", "/usr/include", "/usr/lib",
    "/usr/lib64", "/usr/libexec", "/usr/local", "/usr/local/bin", "/usr/sbin", "/usr/share", "/usr/src", "/var",
    "/var/backups", "/var/cache", "/var/lib", "/var/local", "/var/lock", "/var/log", "/var/mail", "/var/opt", "/var/run",
    "/var/spool", "/var/tmp", "/etc/dnsmasq.d", "/etc/exports.d", "/etc/ssh", "/etc/systemd", "/boot/firmware",
  ]

  /// Kernel file systems: nothing of piswarm's belongs inside them.
  public static let virtualFolders = ["/proc", "/sys", "/dev"]

  /// `path` without repeated or trailing slashes (`/` stays `/`).
  public static func normalized(_ path: String) -> String {
    let parts = path.split(separator: "/", omittingEmptySubsequences: true)
    return "/" + parts.joined(separator: "/")
  }

  /// Why `path` is not a plain absolute path, or nil when it is one. The reason names the
  /// offending character: "holds a tab", "holds a comma", …
  public static func problem(with path: String) -> String? {
    guard path.hasPrefix("/") else { return "must be an absolute path" }
    if path.utf8.count > 1024 { return "is \(path.utf8.count) bytes long; keep it under 1024" }
    if let bad = path.unicodeScalars.first(where: { !isAllowed($0) }) { return "holds \(name(of: bad))" }
    let parts = path.split(separator: "/")
    if parts.contains(".") || parts.contains("..") { return "holds a \".\" or \"..\" component" }
    return nil
  }

  /// Why `path` cannot hold node roots or boot folders (it is a system folder or inside a
  /// kernel file system), or nil.
  public static func folderProblem(with path: String) -> String? {
    let path = normalized(path)
    if systemFolders.contains(path) { return "is a system folder" }
    if let virtual = virtualFolders.first(where: { contains($0, path) }) { return "is inside \(virtual), a kernel file system" }
    return nil
  }

  /// Whether `inner` is `outer` or below it (both normalized first).
  public static func contains(_ outer: String, _ inner: String) -> Bool {
    let outer = normalized(outer)
    let inner = normalized(inner)
    return inner == outer || inner.hasPrefix(outer == "/" ? "/" : outer + "/")
  }

  static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
    scalar.isASCIIAlphanumeric || punctuation.contains(scalar)
  }

  /// "a tab", "a comma", "a control character (\x1b)", "'é'".
  public static func name(of scalar: Unicode.Scalar) -> String {
    switch scalar {
    case "\t": return "a tab"
    case "\n", "\r": return "a line break"
    case " ": return "a space"
    case ",": return "a comma"
    case "\"", "'": return "a quote"
    case "\\": return "a backslash"
    default:
      if TerminalText.needsEscape(scalar) { return "a control character (\(TerminalText.escaped(String(scalar))))" }
      if scalar.properties.isWhitespace { return "white space (\(TerminalText.visible(scalar)))" }
      return "'\(scalar)'"
    }
  }
}
