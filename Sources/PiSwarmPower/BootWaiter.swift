import Foundation
import PiSwarmCore
import PiSwarmSSH

#if canImport(Glibc)
  import Glibc
#endif

/// Waits for a node that was switched on until it has booted, phase by phase (`BootWait`
/// decides; this polls): a netboot node's DHCP request, its kernel over TFTP, then SSH; other
/// nodes' SSH. A node stuck in a phase is power-cycled up to `retries` times, then reported
/// with the phase it stuck in.
public struct BootWaiter: Sendable {
  public var timeouts: BootTimeouts
  public var retries: Int
  /// Whether the node's SSH answers (a banner on port 22).
  public var sshUp: @Sendable (Node) -> Bool
  /// When the node's last boot was seen (DHCP) and its kernel sent, from the boot events
  /// (netboot nodes; `BootWait.marks`).
  public var bootMarks: @Sendable (Node) -> (seen: Date?, kernelSent: Date?)
  /// Power-cycles the node; nil, or why it could not.
  public var cycle: @Sendable (Node) -> String?
  public var progress: @Sendable (Node, String) -> Void
  public var now: @Sendable () -> Date = { Date() }
  public var pause: @Sendable (Double) -> Void = { usleep(useconds_t($0 * 1_000_000)) }
  public var pollInterval: Double = 1
  /// Whether the node's driver reports it off (it powered itself down while booting: a kernel
  /// or initramfs that gave up, a tripped supply); nil where the driver cannot say. Asked every
  /// `powerCheckInterval` seconds, so that a node that is off is not waited for to the phase's
  /// end.
  public var reportsOff: (@Sendable (Node) -> Bool)? = nil
  public var powerCheckInterval: Double = 10

  public init(
    timeouts: BootTimeouts, retries: Int, sshUp: @escaping @Sendable (Node) -> Bool,
    bootMarks: @escaping @Sendable (Node) -> (seen: Date?, kernelSent: Date?), cycle: @escaping @Sendable (Node) -> String?,
    progress: @escaping @Sendable (Node, String) -> Void
  ) {
    self.timeouts = timeouts
    self.retries = retries
    self.sshUp = sshUp
    self.bootMarks = bootMarks
    self.cycle = cycle
    self.progress = progress
  }

  /// Waits for `node`, switched on at `poweredOn`: nil when it is up, else the phase it stuck
  /// in; notes say what was done on the way (power cycles).
  public func wait(_ node: Node, poweredOn: Date) -> (error: String?, notes: [String]) {
    var start = poweredOn
    var cycles = 0
    var notes: [String] = []
    // Each phase is said once (a log line per poll would drown the rest).
    var said: BootStage?
    var powerChecked = start
    // A node that did not boot (`trouble`, in phase `stage`): power-cycled while retries are
    // left (nil: wait again), else why it failed (`advice` added).
    func cycleOrFail(_ trouble: String, _ stage: BootStage, _ how: String, advice: String) -> String? {
      guard cycles < retries else { return "\(trouble)\(Self.cycled(cycles)); \(advice)" }
      cycles += 1
      progress(node, "\(trouble): power-cycling it (\(cycles) of \(retries))")
      if let error = cycle(node) { return "\(trouble); the power cycle failed: \(error)" }
      notes.append("power-cycled once \(how) in phase \(stage.rawValue)")
      start = now()
      powerChecked = start
      said = nil
      return nil
    }
    while true {
      if Cancellation.isCancelled { return ("interrupted while waiting for it to boot", notes) }
      let marks: (seen: Date?, kernelSent: Date?) = node.boot == .netboot ? bootMarks(node) : (nil, nil)
      let verdict = BootWait.judge(
        node, poweredOn: start, now: now(), seen: marks.seen, kernelSent: marks.kernelSent, sshUp: sshUp(node),
        timeouts: timeouts)
      switch verdict {
      case .up:
        progress(node, "up: SSH answers after \(Int(now().timeIntervalSince(poweredOn))) s")
        return (nil, notes)
      case .waiting(let stage, _, let deadline):
        if said != stage {
          progress(node, "booting: waiting for \(stage.waitingFor) (at most \(Int(max(0, deadline.timeIntervalSince(now())))) s)")
          said = stage
        }
        if let reportsOff, now().timeIntervalSince(powerChecked) >= powerCheckInterval {
          powerChecked = now()
          if reportsOff(node) {
            let off =
              "switched off in phase \(stage.rawValue), \(Int(now().timeIntervalSince(start))) s after power-on (its driver reports it off)"
            let advice = "see its console: a kernel or initramfs that gave up powers it down"
            if let error = cycleOrFail(off, stage, "switched off", advice: advice) { return (error, notes) }
            continue
          }
        }
        pause(pollInterval)
      case .stuck(let stage, let waited):
        let stuck = "stuck in phase \(stage.rawValue): waited \(Int(waited)) s for \(stage.waitingFor)"
        if let error = cycleOrFail(stuck, stage, "stuck", advice: advice(node, stage)) { return (error, notes) }
      }
    }
  }

  /// " (after N power cycles)", or nothing before the first.
  static func cycled(_ cycles: Int) -> String {
    cycles > 0 ? " (after \(cycles) power cycle\(cycles == 1 ? "" : "s"))" : ""
  }

  func advice(_ node: Node, _ stage: BootStage) -> String {
    switch stage {
    case .dhcp:
      "check its network cable, switch port and boot order (EEPROM BOOT_ORDER), and 'piswarm netboot status'"
    case .tftp: "see 'piswarm netboot status \(node.name)' for the files it asked for"
    case .nfsRoot: "see its console, the NFS exports ('piswarm netboot status'), and that its root was made ('piswarm root ls')"
    case .ssh: "see its console; raise power.boot_timeouts.ssh in cluster.yml if it only boots slowly"
    }
  }
}
