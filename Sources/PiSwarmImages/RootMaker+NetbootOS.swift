import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// The real operating system in a node's root, made fit for a diskless boot: what the root
/// contains is looked at through its descriptor, the changes are planned by `NetbootOS`
/// (PiSwarmCore, pure), and applied here, each only when it changes something.
extension RootMaker {
  /// What `root` contains that `NetbootOS` decides by. Links inside the root resolve inside it.
  static func contents(of root: ConfinedRoot) throws(PiSwarmError) -> NetbootOS.Contents {
    var contents = NetbootOS.Contents()
    contents.networkManager = try root.kind(NetbootOS.networkManagerBinary) != nil
    contents.cloudInit = try root.kind(NetbootOS.cloudInitBinary) != nil
    contents.systemd = try root.kind(NetbootOS.systemdBinary) != nil
    contents.interfaces = try root.read(NetbootOS.interfacesFile).map { String(decoding: $0, as: UTF8.self) }
    for unit in NetbootOS.knownUnits {
      for folder in NetbootOS.unitFolders where contents.units[unit] == nil {
        if try root.kind(folder + "/" + unit) == .file { contents.units[unit] = folder + "/" + unit }
      }
      if try root.kind(NetbootOS.wantsFolder + "/" + unit) == .symlink { contents.enabled.insert(unit) }
      if try root.linkTarget("/etc/systemd/system/" + unit) == "/dev/null" { contents.masked.insert(unit) }
    }
    return contents
  }

  /// Applies `NetbootOS.changes` for `node` to `root`; returns the paths it changed.
  func prepareForNetboot(_ root: ConfinedRoot, node: Node) throws(PiSwarmError) -> [String] {
    var changed: [String] = []
    for change in NetbootOS.changes(for: try Self.contents(of: root), node: node.name, mac: node.mac) {
      let wrote: Bool
      switch change {
      case .file(let path, let content, let mode): wrote = try root.write(content, to: path, mode: mode_t(mode))
      case .link(let path, let target): wrote = try root.link(target, at: path)
      case .remove(let path):
        wrote = try root.kind(path) != nil
        try root.unlink(path)
      }
      if wrote { changed.append(change.path) }
    }
    return changed
  }
}
