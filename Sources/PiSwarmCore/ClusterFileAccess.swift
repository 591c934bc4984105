/// Who besides root can change the cluster file. piswarm runs as root and does what the file
/// says (what it exports, serves, writes into node roots, runs as power commands), so a file, or
/// a folder holding it, that another user can write is a way to root. Pure: the caller stats.
public enum ClusterFileAccess {
  /// Ownership and mode of a file or folder, as `stat` gives them.
  public struct Status: Sendable, Equatable {
    public var owner: UInt32
    public var group: UInt32
    public var mode: UInt32

    public init(owner: UInt32, group: UInt32, mode: UInt32) {
      self.owner = owner
      self.group = group
      self.mode = mode
    }
  }

  /// A `FILE: warning: …` line when users other than root (and `reader`, the user running
  /// piswarm) can change the file at `path` or replace it in `folder`; nil when none can.
  public static func warning(path: String, file: Status, folder: (path: String, status: Status)?, reader: UInt32) -> String? {
    var problems: [String] = []
    var fixes: [String] = []
    if let who = writers(file, reader: reader) {
      problems.append("the file is \(who) (mode \(octal(file.mode)))")
      fixes.append("chown root:root \(Shell.quote(path)) && chmod 0644 \(Shell.quote(path))")
    }
    if let folder, let who = writers(folder.status, reader: reader, sticky: true) {
      problems.append("its folder \(folder.path) is \(who) (mode \(octal(folder.status.mode)))")
      fixes.append("chown root:root \(Shell.quote(folder.path)) && chmod 0755 \(Shell.quote(folder.path))")
    }
    guard !problems.isEmpty else { return nil }
    return "\(path): warning: \(problems.joined(separator: ", and ")): whoever can change the cluster file decides what piswarm, "
      + "running as root, exports, serves and runs; make it root's: \(fixes.joined(separator: " && "))"
  }

  /// "owned by uid 1000", "writable by group 100", "writable by every user", or nil.
  static func writers(_ status: Status, reader: UInt32, sticky: Bool = false) -> String? {
    var who: [String] = []
    if status.owner != 0 && status.owner != reader { who.append("owned by uid \(status.owner)") }
    // A sticky folder (/tmp) lets others add files, not replace this one.
    let stickyBit: UInt32 = 0o1000
    let guarded = sticky && status.mode & stickyBit != 0
    if !guarded && status.mode & 0o020 != 0 && status.group != 0 { who.append("writable by group \(status.group)") }
    if !guarded && status.mode & 0o002 != 0 { who.append("writable by every user") }
    return who.isEmpty ? nil : who.joined(separator: " and ")
  }

  static func octal(_ mode: UInt32) -> String {
    let digits = String(mode & 0o7777, radix: 8)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
  }
}
