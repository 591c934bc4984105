import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmNetboot
import PiSwarmStore

/// Called by dnsmasq through the hook script, once per lease change, TFTP transfer and ARP
/// change. Records one boot event; prints nothing on success. Must stay fast: dnsmasq runs its
/// script calls one after the other.
struct NetbootHookCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "hook",
    abstract: "Record a dnsmasq event (called by dnsmasq's dhcp-script).",
    shouldDisplay: false
  )

  @OptionGroup var global: GlobalOptions

  @Argument(
    parsing: .captureForPassthrough, help: "What dnsmasq passed: add|old|del MAC IP [HOST], tftp SIZE IP PATH, arp-add MAC IP.")
  var words: [String] = []

  func run() throws {
    try reporting {
      // dnsmasq's log stays bounded; a failure here must not lose the event.
      _ = try? DnsmasqLogRotation.rotate(NetbootPaths(stateDirectory: global.stateDirectory).log)
      let arguments = words.first == "--" ? Array(words.dropFirst()) : words
      guard let event = BootEvent.fromHook(arguments, environment: ProcessInfo.processInfo.environment, time: Date()) else {
        return
      }
      try SQLiteStateStore(stateDirectory: global.stateDirectory).recordBootEvent(event)
    }
  }
}
