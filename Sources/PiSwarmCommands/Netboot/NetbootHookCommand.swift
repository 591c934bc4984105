import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmNetboot
import PiSwarmStore

/// Records one boot event in the state store from what dnsmasq passes its `dhcp-script`; prints
/// nothing on success. The rendered hook no longer calls it (it records events in its spool with
/// shell builtins, `HookScript`: a process per event held up a boot storm); kept for hooks
/// written by hand and earlier versions, whose events the readers still read.
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
