import Foundation
import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// What nodes are made of: the host folders their mounts need, the base image, each node's
/// files, and the pinned host keys.
extension VirtualLab {
  /// Mount points the node mounts need must exist on the host.
  func prepareHost(_ layout: LabLayout) throws(PiSwarmError) {
    // Called under the machine lock; the record is machine-wide, since labs of other state
    // directories use the same mount points.
    for path in ["/var/lib/docker", "/var/lib/containerd", DockerStorageLayout.base, "/etc/docker", "/etc/ssh"]
    where !Files.exists(path) {
      try Files.makeDirectory(path, mode: 0o711)
      let existing = (try? String(contentsOfFile: Self.mountPointRecord, encoding: .utf8)) ?? ""
      try AtomicFile.write(existing + path + "\n", to: Self.mountPointRecord, mode: 0o600)
    }
    if !Files.exists(layout.keyPath) {
      try Command("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "piswarm-lab-\(layout.name)", "-f", layout.keyPath])
        .check()
    }
    if !Files.exists(layout.baseImageTar) { try makeBaseImage(layout) }
  }

  /// A 2 MB image from busybox-static: enough for services without a registry.
  func makeBaseImage(_ layout: LabLayout) throws(PiSwarmError) {
    let root = layout.directory + "/base-rootfs"
    try? FileManager.default.removeItem(atPath: root)
    try Files.makeDirectory(root + "/bin", mode: 0o755)
    for folder in ["etc", "tmp", "proc", "sys", "dev", "root", "var/www"] {
      try Files.makeDirectory(root + "/" + folder, mode: 0o755)
    }
    guard let busybox = Command.resolve("busybox") else { throw PiSwarmError(.system, "busybox is not installed") }
    do { try FileManager.default.copyItem(atPath: busybox, toPath: root + "/bin/busybox") } catch {
      throw PiSwarmError(.system, "cannot copy busybox", cause: "\(error)")
    }
    try Command(root + "/bin/busybox", ["--install", "-s", root + "/bin"]).check()
    // --install -s links to the absolute path of the copy; point them at /bin/busybox instead.
    for name in (try? FileManager.default.contentsOfDirectory(atPath: root + "/bin")) ?? [] where name != "busybox" {
      let link = root + "/bin/" + name
      try? FileManager.default.removeItem(atPath: link)
      try? FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "busybox")
    }
    try AtomicFile.write("root:x:0:0:root:/root:/bin/sh\n", to: root + "/etc/passwd")
    try AtomicFile.write("<h1>piswarm lab</h1>\n", to: root + "/var/www/index.html")
    try Command("tar", ["-C", root, "-cf", layout.baseImageTar + ".tmp", "."]).check()
    guard rename(layout.baseImageTar + ".tmp", layout.baseImageTar) == 0 else {
      throw PiSwarmError(.system, "cannot write \(layout.baseImageTar)")
    }
    try? FileManager.default.removeItem(atPath: root)
  }

  func prepareFiles(_ layout: LabLayout, _ node: LabLayout.Node) throws(PiSwarmError) {
    let directory = node.directory
    for folder in [
      "etc-ssh", "root", "root/.ssh", "etc-docker", "var-lib-docker", "var-lib-containerd", "var-lib-piswarm-node", "var-log",
      "tmp", "etc-init.d",
    ] {
      try Files.makeDirectory(directory + "/" + folder, mode: folder.hasPrefix("root") ? 0o700 : 0o755)
    }
    chmod(directory + "/tmp", 0o1777)
    let hostKey = directory + "/etc-ssh/ssh_host_ed25519_key"
    if !Files.exists(hostKey) {
      try Command("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "root@\(node.name)", "-f", hostKey]).check()
    }
    if Files.exists("/etc/ssh/moduli"), !Files.exists(directory + "/etc-ssh/moduli") {
      try? FileManager.default.copyItem(atPath: "/etc/ssh/moduli", toPath: directory + "/etc-ssh/moduli")
    }
    try AtomicFile.write(LabFiles.sshdConfig(node), to: directory + "/etc-ssh/sshd_config")
    try AtomicFile.write(try Files.read(layout.keyPath + ".pub"), to: directory + "/root/.ssh/authorized_keys", mode: 0o600)
    // 'piswarm up' may have changed these since: a new 'lab up' keeps them.
    if !Files.exists(directory + "/etc-docker/daemon.json") {
      try AtomicFile.write(LabFiles.daemonJSON(layout, node), to: directory + "/etc-docker/daemon.json")
    }
    if !Files.exists(directory + "/fstab") { try AtomicFile.write(LabFiles.fstab, to: directory + "/fstab") }
    try AtomicFile.write(LabFiles.hosts(layout, node), to: directory + "/hosts")
    try AtomicFile.write(node.name + "\n", to: directory + "/hostname")
    try AtomicFile.write(LabFiles.initScript(layout, node), to: directory + "/init.sh", mode: 0o755)
    try AtomicFile.write(LabFiles.dockerService, to: directory + "/etc-init.d/docker", mode: 0o755)
  }

  /// Loads the busybox image into every node that lacks it.
  func loadBaseImage(_ layout: LabLayout) throws(PiSwarmError) {
    guard let state = LabState.load(name: layout.name, stateDirectory: stateDirectory) else { return }
    let docker = Command.resolve("/usr/bin/docker") ?? "docker"
    var loaded = 0
    for node in layout.nodes {
      guard let launcher = state.launchers[node.name], let socket = dockerSocket(launcher) else { continue }
      if Probes.unixHTTPGet(socket: socket, path: "/images/\(Self.baseImage)/json")?.status == 200 { continue }
      try Command(
        docker, ["-H", "unix://\(socket)", "import", layout.baseImageTar, Self.baseImage],
        environment: ["DOCKER_CONFIG": layout.directory + "/.docker"]
      ).check()
      loaded += 1
    }
    if loaded > 0 { progress("lab \(layout.name): loaded \(Self.baseImage) on \(loaded) node(s)") }
  }

  public static let baseImage = "piswarm/base:latest"

  /// Pins each node's host key in the lab's known_hosts and in piswarm's own.
  func pinHostKeys(_ layout: LabLayout) throws(PiSwarmError) {
    var lines: [String] = []
    for node in layout.nodes {
      let key = try Files.read(node.directory + "/etc-ssh/ssh_host_ed25519_key.pub")
      lines.append(LabFiles.knownHostsLine(node, publicKey: String(decoding: key, as: UTF8.self)))
    }
    try AtomicFile.write(lines.joined(separator: "\n") + "\n", to: layout.knownHostsPath, mode: 0o600)
    try KnownHosts.replace(hosts: layout.nodes.map(\.ip.description), with: lines, in: stateDirectory + "/known_hosts")
  }
}
