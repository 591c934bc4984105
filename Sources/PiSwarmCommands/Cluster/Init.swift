import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmStore
import PiSwarmSystem

struct Init: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write a commented starter cluster file, the state directory and the cluster's SSH key.",
    discussion: """
      Writes the cluster file (refusing to replace one unless --force), creates the state
      directory with mode 0700 and its SQLite state store, and makes an ed25519 key pair with
      ssh-keygen in STATE/ssh/ (kept when it exists already).

      Examples:
        piswarm init
        piswarm init --name rack1 --interface eth1 --address 10.42.0.250/24 --lan dhcp
      """
  )

  @OptionGroup var global: GlobalOptions

  @Option(help: "The cluster's name: lowercase letters, digits and '-'.")
  var name = "pi-cluster"

  @Option(help: "The head's interface facing the nodes.")
  var interface = "eth0"

  @Option(help: "The head's address on the cluster network, with prefix length.")
  var address = "192.168.50.1/24"

  @Option(help: "proxy (a router serves DHCP), dhcp (piswarm does) or none.")
  var lan = LANMode.proxy.rawValue

  @Option(help: "The user piswarm logs in as on the nodes.")
  var sshUser = SSHSettings.defaultUser

  @Flag(help: "Replace an existing cluster file (the old one is kept as FILE.bak).")
  var force = false

  func validate() throws {
    guard HostName.isValid(name) else {
      throw ValidationError("--name \"\(name)\" may hold only lowercase letters, digits and '-', e.g. pi-cluster")
    }
    guard HostName.isInterfaceName(interface) else {
      throw ValidationError("--interface \"\(interface)\" is not an interface name, e.g. eth1")
    }
    guard IPv4Interface(address) != nil else {
      throw ValidationError("--address \"\(address)\" is not an address with prefix, e.g. 192.168.50.1/24")
    }
    guard LANMode(rawValue: lan) != nil else { throw ValidationError("--lan \"\(lan)\" is not one of proxy, dhcp, none") }
    guard HostName.isUserName(sshUser) else { throw ValidationError("--ssh-user \"\(sshUser)\" is not a user name") }
  }

  func run() throws {
    try reporting {
      let path = global.clusterFile
      if Files.exists(path) && !force {
        throw PiSwarmError(
          .exists, "\(path) exists already",
          advice: "edit it, or run 'piswarm init --force' to replace it (the old file is kept as \(path).bak)")
      }
      guard let address = IPv4Interface(address), let lan = LANMode(rawValue: lan) else { throw Exit.usage }
      let text = StarterFile.render(
        .init(name: name, interface: interface, address: address, lan: lan, sshUser: sshUser, sshKey: global.defaultKey))
      // The starter must itself be valid; check before anything is written.
      let decoded = ClusterFile.decode(text: text)
      if decoded.diagnostics.hasErrors {
        for diagnostic in decoded.diagnostics { Console.err(diagnostic.formatted(file: path)) }
        throw PiSwarmError(.invalidInput, "these options make an invalid cluster file")
      }
      if !Files.exists(global.defaultKey) && Command.resolve("ssh-keygen") == nil {
        throw PiSwarmError(
          .system, "ssh-keygen is not installed", advice: "install openssh-client (apt-get install openssh-client)")
      }
      try global.mutating(commandLine) { journal throws(PiSwarmError) in
        let keyPath = global.defaultKey
        try Files.makeDirectory((keyPath as NSString).deletingLastPathComponent, mode: 0o700)
        if !Files.exists(keyPath) {
          try Command("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "piswarm@\(name)", "-f", keyPath]).check()
          Console.err("made the cluster's SSH key \(keyPath)")
        } else {
          Console.err("kept the existing SSH key \(keyPath)")
        }
        if Files.exists(path) {
          try AtomicFile.write(try Files.read(path), to: path + ".bak")
        }
        try AtomicFile.write(text, to: path)
        try journal.store.recordEvent(EventRecord(time: Date(), node: nil, kind: "init", detail: "wrote \(path)"))
      }
      Console.err("state directory: \(global.stateDirectory)")
      Console.out("wrote \(path); next: 'piswarm node add NAME --ip ADDRESS', then 'piswarm validate'\n")
    }
  }
}
