import ArgumentParser
import Dispatch
import Foundation
import PiSwarmCore
import PiSwarmImages
import PiSwarmStore
import PiSwarmSystem
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

struct Burn: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "burn",
    abstract: "Write an OS image to SD cards or USB disks, one node each, with the node's identity.",
    discussion: """
      The image (raw, .xz, .gz or .zst; an imported image's name or a file) is
      streamed to every card at once, writing only the blocks its partitions use
      (ext4 block bitmaps, FAT tables) in large direct writes, then read back and
      compared (--no-verify skips that).

      The node's identity then goes on the card for its first boot, chosen by what
      the image carries: cloud-init NoCloud files (ds=nocloud on the cmdline) or
      firstrun.sh (systemd.run=). Host name, the SSH user with the cluster key and
      no password, a host key made here and pinned before the first boot, DHCP
      (lan: dhcp) or a fixed address, time zone, the memory cgroup flags, a fresh
      instance-id and machine-id. Nothing is mounted.

      Always refused: a mounted or otherwise used disk, the disk the head runs
      from. Refused without --force: a disk neither removable nor on USB (loop
      devices too). A card that fails mid-way is left unusable (its first MiB
      zeroed), never "done".

      Examples:
        piswarm burn node07 --device /dev/sdb
        piswarm burn 'node[02-03]' --device /dev/sdb --device /dev/sdc --yes
        piswarm burn node07 --device /dev/sdb --image raspios.img.xz
        piswarm burn node07 --device /dev/sdb --first-boot firstrun --json
      """
  )

  @OptionGroup var global: GlobalOptions

  @Argument(help: "The nodes, one per --device, in order (node07, or node[02-05]).")
  var target: String

  @Option(name: .customLong("device"), help: "A whole disk to write (repeat for several cards).")
  var devices: [String] = []

  @Option(help: "An imported image's name or an image file (default: defaults.image).")
  var image: String?

  @Option(help: "cloud-init or firstrun (default: cloud-init when the image has it, else firstrun).")
  var firstBoot: FirstBootFormat?

  @Option(help: "The node's time zone (default: the head's).")
  var timezone: String?

  @Flag(help: "Skip reading the cards back.")
  var noVerify = false

  @Flag(help: "Allow disks that are neither removable nor on USB, and loop devices.")
  var force = false

  @Flag(help: "Do not ask before writing.")
  var yes = false

  @Flag(help: "Print JSON on stdout.")
  var json = false

  func validate() throws {
    guard !devices.isEmpty else { throw ValidationError("name the card to write with --device /dev/sdX") }
    if Set(devices).count != devices.count { throw ValidationError("a device is named twice: \(devices.joined(separator: " "))") }
  }

  struct Card: Codable {
    var node: String
    var device: CardDevice
    var burn: BurnResult?
    var identity: CardIdentityResult?
    var error: String?
  }

  func run() throws {
    var failed = false
    try reporting {
      let loaded = try global.loadCluster()
      let cluster = loaded.cluster
      let nodes = try Targets.resolve(target, in: cluster).get()
      guard nodes.count == devices.count else {
        throw PiSwarmError(
          .invalidInput, "\(target) names \(nodes.count) node(s) but \(devices.count) device(s) were given",
          advice: "give one --device per node, in the nodes' order")
      }
      let file = try imageFile()
      let authorizedKey = try NodeRoots.authorizedKey(cluster, global: global)
      let cards = try devices.map { (path) throws(PiSwarmError) -> CardDevice in try CardDevice.inspect(path) }
      let headPaths = ["/", "/boot", "/usr", "/var", Files.absolute(global.stateDirectory)]
      for card in cards {
        if let refusal = card.refusal(force: force, headPaths: headPaths) { throw refusal }
      }
      for (node, card) in zip(nodes, cards) {
        Console.err("\(node.name) → \(card.summary)")
        if node.boot != .sd {
          Console.err(
            "\(node.name): warning: it is 'boot: \(node.boot.rawValue)' in \(loaded.path); set 'boot: sd' so that up and status treat it as a card"
          )
        }
      }
      try confirm(cards)
      let zone = timezone ?? Self.headTimezone()
      let results = try global.mutating(commandLine) { (journal) throws(PiSwarmError) -> [Card] in
        let burned = burnAll(file: file, cards: cards)
        var results: [Card] = []
        let writer = CardIdentityWriter(stateDirectory: global.stateDirectory, nfsRoot: cluster.head.nfsRoot)
        for ((node, card), outcome) in zip(zip(nodes, cards), burned) {
          let started = Date()
          var result = Card(node: node.name, device: card)
          do throws(PiSwarmError) {
            let burn = try outcome.get()
            result.burn = burn
            let address: CardIdentity.Address =
              cluster.head.lan == .dhcp
              ? .dhcp
              : .fixed(
                IPv4Interface(address: node.ip, prefixLength: cluster.head.address.prefixLength),
                dns: cluster.head.address.address)
            result.identity = try writer.write(
              node: node, user: cluster.ssh.user, authorizedKey: authorizedKey, address: address, timezone: zone,
              format: firstBoot, device: card.path, partitions: burn.partitions)
            try journal.step(node: node.name, "burn", .succeeded, started: started)
            Console.err(
              "\(node.name): \(card.path) done (\(result.identity?.format.rawValue ?? "")), host key \(result.identity?.hostKeyFingerprint ?? "")"
            )
          } catch {
            failed = true
            result.error = error.description
            Console.err("\(node.name): error: \(error)")
            try journal.step(node: node.name, "burn", .failed, started: started, error: error.description)
          }
          results.append(result)
        }
        return results
      }
      if json {
        Console.out(try Console.json(results))
      } else {
        Console.out(BurnTable.render(results))
      }
    }
    if failed { throw Exit.failure }
  }

  /// `--image` (or defaults.image): an imported image's source file, or a file.
  func imageFile() throws(PiSwarmError) -> String {
    let cluster = try global.loadCluster(printWarnings: false).cluster
    guard let name = image ?? cluster.defaults.image else {
      throw PiSwarmError(.invalidInput, "no image named", advice: "give --image NAME|FILE or set defaults.image")
    }
    if ImageName.problem(with: name) == nil,
      let record = try SQLiteStateStore(stateDirectory: global.stateDirectory).image(named: name)
    {
      guard Files.exists(record.source) else {
        throw PiSwarmError(
          .notFound, "image \(name) was imported from \(record.source), which is gone",
          advice: "burn from the file with --image FILE")
      }
      return record.source
    }
    guard Files.exists(name) else {
      throw PiSwarmError(.notFound, "no image named \(name) and no such file", advice: "see 'piswarm image list', or give a file")
    }
    return name
  }

  func confirm(_ cards: [CardDevice]) throws(PiSwarmError) {
    try Confirmation.ask(
      "everything on \(cards.map(\.path).joined(separator: ", ")) will be lost. write?", yes: yes,
      advice: "add --yes to write without asking", declined: "nothing written")
  }

  /// Every card at once, each on its own thread reading the image on its own.
  func burnAll(file: String, cards: [CardDevice]) -> [Result<BurnResult, PiSwarmError>] {
    let board = isatty(2) == 1 ? ProgressBoard(nodes: cards.map(\.name)) : nil
    let results = Mutex<[Int: Result<BurnResult, PiSwarmError>]>([:])
    let group = DispatchGroup()
    let verify = !noVerify
    for (index, card) in cards.enumerated() {
      group.enter()
      Thread.detachNewThread {
        defer { group.leave() }
        let outcome: Result<BurnResult, PiSwarmError>
        do throws(PiSwarmError) {
          outcome = .success(
            try CardBurner.burn(image: file, device: card, verify: verify) { progress in
              board?.update(
                progress.device,
                ProgressLine.burn(
                  device: "", phase: progress.phase.rawValue, fraction: progress.fraction, bytes: progress.bytes,
                  seconds: progress.seconds))
            })
        } catch { outcome = .failure(error) }
        results.withLock { $0[index] = outcome }
      }
    }
    group.wait()
    board?.finish()
    let done = results.withLock { $0 }
    return cards.indices.map { done[$0] ?? .failure(PiSwarmError(.system, "\(cards[$0].path) was not burned")) }
  }

  static func headTimezone() -> String {
    let zone = (Files.readWhole("/etc/timezone") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    return zone.isEmpty ? "Etc/UTC" : zone
  }
}

extension FirstBootFormat: ExpressibleByArgument {}

/// The table `burn` prints.
enum BurnTable {
  static func render(_ cards: [Burn.Card]) -> String {
    TextTable.render(
      header: ["NODE", "DEVICE", "WRITTEN", "MB/S", "VERIFIED", "FIRST BOOT", "HOST KEY"],
      rows: cards.map { card in
        let rate = card.burn.map { $0.writeSeconds > 0 ? Double($0.written) / $0.writeSeconds / 1_000_000 : 0 } ?? 0
        return [
          card.node, card.device.path, card.burn.map { ProgressLine.mebibytes($0.written) } ?? "-",
          card.burn == nil ? "-" : String(format: "%.1f", rate),
          card.burn.map { $0.verifySeconds == nil ? "skipped" : "yes" } ?? "-",
          card.error == nil ? card.identity?.format.rawValue ?? "-" : "FAILED", card.identity?.hostKeyFingerprint ?? "-",
        ]
      })
  }
}
