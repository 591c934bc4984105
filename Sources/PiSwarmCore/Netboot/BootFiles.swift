/// The per-node files the Pi firmware reads over TFTP: `cmdline.txt` (the kernel command line,
/// with the node's own NFS root) and `config.txt`.
public enum BootFiles {
  /// The NFS path of a node's root filesystem.
  public static func rootPath(_ node: Node, in cluster: Cluster) -> String {
    cluster.head.nfsRoot.trimmingSuffix("/") + "/" + node.name
  }

  /// One line, newline-terminated, ending with the node's `cmdline_extra`. NFSv3 over TCP: Raspberry Pi OS's initramfs rejects `vers=4`,
  /// and both it and the kernel accept `nfsvers=3,tcp`. The memory cgroup is off by default on Pi
  /// kernels and Docker needs it. None of the image's own words (`root=PARTUUID=…`, `rootwait`,
  /// `resize`, `init=…/firstboot`: `NetbootOS.isSDOnly`) is carried over.
  public static func cmdline(_ node: Node, in cluster: Cluster) throws(PiSwarmError) -> String {
    let words = [
      "console=serial0,115200", "console=tty1", "root=/dev/nfs",
      "nfsroot=\(cluster.head.address.address):\(rootPath(node, in: cluster)),nfsvers=3,tcp",
      "rw", "ip=dhcp", "cgroup_enable=memory", "cgroup_memory=1",
    ]
    let line = (words + (node.cmdlineExtra.map { [$0] } ?? [])).joined(separator: " ")
    try SingleLine.check(line, what: "the kernel command line of \(node.name)")
    return line + "\n"
  }

  /// Small and model-neutral: a 64-bit kernel and the serial console.
  public static func config(_ node: Node) -> String {
    var lines = [
      "# Rendered by piswarm for \(node.name)\(node.model.map { " (\($0.rawValue))" } ?? ""); 'piswarm netboot apply' overwrites edits.",
      "arm_64bit=1",
      "enable_uart=1",
    ]
    switch node.model {
    case .pi3b, .pi3bplus, .zero2w:
      // The 64-bit kernel of these boards is kernel8.img; the firmware would pick kernel7.img.
      lines.append("kernel=kernel8.img")
    default:
      break
    }
    return lines.joined(separator: "\n") + "\n"
  }
}

extension String {
  func trimmingSuffix(_ suffix: Character) -> String {
    var text = self
    while text.count > 1 && text.last == suffix { text.removeLast() }
    return text
  }
}
