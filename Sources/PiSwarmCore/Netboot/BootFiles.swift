/// The per-node files the Pi firmware reads over TFTP: `cmdline.txt` (the kernel command line,
/// with the node's own NFS root) and `config.txt`.
public enum BootFiles {
  /// The NFS path of a node's root filesystem: the generation it boots (`Cluster.currentRoots`,
  /// after `piswarm upgrade` or `rollback`), else `NFS_ROOT/NODE`.
  public static func rootPath(_ node: Node, in cluster: Cluster) -> String {
    cluster.currentRoots[node.name]?.path ?? cluster.head.nfsRoot.trimmingSuffix("/") + "/" + node.name
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
    // No node name: the file is the same for every node of a model, so that one file, hard-linked,
    // serves them all (a new file costs far more than a link on a busy filesystem).
    var lines = [
      "# Rendered by piswarm\(node.model.map { " for a \($0.rawValue)" } ?? ""); 'piswarm netboot apply' overwrites edits.",
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

extension BootFiles {
  /// What a board of `model` reads that `names` (an image's boot folder) lacks, as shell-style
  /// patterns: a Pi 5 reads no `start*.elf` but its own device tree and kernel
  /// (`kernel_2712.img`, or `kernel8.img`), a Pi 4 `start4.elf`, a Pi 3 `bootcode.bin` and
  /// `start.elf`. Empty for boards piswarm knows nothing about.
  public static func missingFirmware(for model: BoardModel?, in names: [String]) -> [String] {
    let have = Set(names)
    func any(_ prefix: String, _ suffix: String) -> Bool { have.contains { $0.hasPrefix(prefix) && $0.hasSuffix(suffix) } }
    var missing: [String] = []
    switch model {
    case .pi5, .pi500, .cm5:
      if !any("bcm2712", ".dtb") { missing.append("bcm2712*.dtb") }
      if !have.contains("kernel_2712.img") && !have.contains("kernel8.img") { missing.append("kernel_2712.img") }
    case .pi4, .pi400, .cm4:
      missing += ["start4.elf", "fixup4.dat"].filter { !have.contains($0) }
      if !any("bcm2711", ".dtb") { missing.append("bcm2711*.dtb") }
      if !have.contains("kernel8.img") { missing.append("kernel8.img") }
    case .pi3b, .pi3bplus, .zero2w:
      missing += ["bootcode.bin", "start.elf", "fixup.dat", "kernel8.img"].filter { !have.contains($0) }
    case .other, nil:
      break
    }
    return missing
  }
}

extension String {
  func trimmingSuffix(_ suffix: Character) -> String {
    var text = self
    while text.count > 1 && text.last == suffix { text.removeLast() }
    return text
  }
}
