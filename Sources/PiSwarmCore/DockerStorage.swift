/// Where a node's Docker keeps images and containers.
public enum DockerStorage: Hashable, Sendable, CustomStringConvertible {
  /// `/var/lib/docker` on the node's root filesystem. Impossible when the root is NFS.
  case root
  /// A sparse ext4 image file of this size, loop-mounted over `/var/lib/docker`.
  case loopfile(ByteSize)
  /// A local partition (SD card, USB disk).
  case device(String)
  /// Memory: fast, but everything, swarm state included, is lost at reboot. Workers only.
  case tmpfs(ByteSize)

  public static let kinds = ["root", "loopfile", "device", "tmpfs"]

  /// Parses `root`, `loopfile:SIZE`, `device:/dev/…`, `tmpfs:SIZE`; returns the reason on failure.
  public static func parse(_ text: String) -> Result<DockerStorage, StorageParseError> {
    let kind = text.prefix { $0 != ":" }
    let argument = text.dropFirst(kind.count + 1)
    let hasArgument = text.contains(":")
    switch kind {
    case "root":
      return hasArgument ? .failure(.init("\"root\" takes no argument; write docker_storage: root")) : .success(.root)
    case "loopfile", "tmpfs":
      guard hasArgument, !argument.isEmpty else {
        return .failure(.init("\"\(kind)\" needs a size, e.g. \(kind):16G"))
      }
      guard let size = ByteSize(argument), size.bytes > 0 else {
        return .failure(.init("\"\(argument)\" is not a size; write a whole number with K, M, G or T, e.g. \(kind):16G"))
      }
      return .success(kind == "loopfile" ? .loopfile(size) : .tmpfs(size))
    case "device":
      guard hasArgument, argument.hasPrefix("/dev/"), argument.count > 5 else {
        return .failure(.init("\"device\" needs a block device path, e.g. device:/dev/mmcblk0p3"))
      }
      // The path goes into the node's fstab, which splits on white space and reads '\' escapes.
      let path = String(argument)
      let allowed: Set<Unicode.Scalar> = ["/", ".", "_", "-", "+", ":", "@", "="]
      if let bad = path.unicodeScalars.first(where: { !($0.isASCIIAlphanumeric || allowed.contains($0)) }) {
        return .failure(
          .init(
            "device path \"\(path.terminalSafe)\" holds \(HeadPath.name(of: bad)): it goes into the node's fstab; give a plain path under /dev/, e.g. device:/dev/mmcblk0p3 or device:/dev/disk/by-uuid/…"
          ))
      }
      if path.split(separator: "/").contains(where: { $0 == "." || $0 == ".." }) {
        return .failure(
          .init("device path \"\(path)\" holds a \".\" or \"..\" component; give a plain path under /dev/, e.g. device:/dev/sda1")
        )
      }
      return .success(.device(path))
    default:
      return .failure(
        .init(
          "\"\(text)\" is not a storage mode; use root, loopfile:SIZE, device:/dev/… or tmpfs:SIZE"
            + Suggestion.hint(for: String(kind), in: kinds)))
    }
  }

  public var description: String {
    switch self {
    case .root: "root"
    case .loopfile(let size): "loopfile:\(size)"
    case .device(let path): "device:\(path)"
    case .tmpfs(let size): "tmpfs:\(size)"
    }
  }

  public struct StorageParseError: Error, Sendable {
    public var message: String
    init(_ message: String) { self.message = message }
  }
}
