import Foundation

/// The cluster file's `power:` section: how long a booting node may take in each phase, how
/// often a node stuck while booting is power-cycled, how long a node may take to shut down.
public struct PowerSettings: Hashable, Sendable {
  public var bootTimeouts: BootTimeouts
  /// Power cycles of a node stuck in a boot phase before it is reported as stuck.
  public var retries: Int
  /// Seconds a node asked to shut down over SSH may take before its power is cut anyway.
  public var shutdownTimeout: Double

  public init(bootTimeouts: BootTimeouts = BootTimeouts(), retries: Int = 1, shutdownTimeout: Double = 60) {
    self.bootTimeouts = bootTimeouts
    self.retries = retries
    self.shutdownTimeout = shutdownTimeout
  }

  public static let keys = ["boot_timeouts", "retries", "shutdown_timeout"]
}

/// Seconds per boot phase, each counted from the end of the one before (or from power on).
public struct BootTimeouts: Hashable, Sendable {
  /// Power on → the boot ROM's first DHCP/PXE request (netboot).
  public var dhcp: Double = 60
  /// DHCP → the kernel sent over TFTP (netboot).
  public var tftp: Double = 120
  /// Kernel sent → SSH answers: the NFS root mounted and the system up (netboot).
  public var nfsRoot: Double = 180
  /// Power on → SSH answers (nodes that boot from their own card or disk).
  public var ssh: Double = 180

  public init() {}

  public static let keys = ["dhcp", "tftp", "nfs_root", "ssh"]

  public subscript(key: String) -> Double? {
    get {
      switch key {
      case "dhcp": dhcp
      case "tftp": tftp
      case "nfs_root": nfsRoot
      case "ssh": ssh
      default: nil
      }
    }
    set {
      guard let newValue else { return }
      switch key {
      case "dhcp": dhcp = newValue
      case "tftp": tftp = newValue
      case "nfs_root": nfsRoot = newValue
      case "ssh": ssh = newValue
      default: break
      }
    }
  }
}

/// A phase of a boot as the head can follow it.
public enum BootStage: String, Sendable, Codable, Equatable {
  /// Waiting for the boot ROM's DHCP/PXE request.
  case dhcp
  /// Waiting for the kernel to be sent over TFTP.
  case tftp
  /// The kernel was sent; waiting for SSH (NFS root, then the system; the NFS server is not
  /// watched, so the two are one wait).
  case nfsRoot = "nfs-root"
  /// Waiting for SSH (a node that boots from its own card or disk).
  case ssh

  /// In words, for progress and errors.
  public var waitingFor: String {
    switch self {
    case .dhcp: "its DHCP request (boot ROM)"
    case .tftp: "the kernel to be sent over TFTP"
    case .nfsRoot: "SSH after the kernel was sent (NFS root, then the system)"
    case .ssh: "SSH"
    }
  }
}

/// Whether a node being booted is up, still within its phase's time, or stuck: purely, from
/// what was observed since power on.
public enum BootWait {
  public enum Verdict: Sendable, Equatable {
    case up
    /// In `stage` (the last one reached at `since`), until `deadline`.
    case waiting(BootStage, since: Date, deadline: Date)
    /// Stuck in `stage`: nothing after it within its time.
    case stuck(BootStage, waited: Double)
  }

  /// The phases followed for `node`: a netboot node's DHCP, TFTP and NFS root; SSH for others.
  public static func stages(_ node: Node) -> [BootStage] {
    node.boot == .netboot ? [.dhcp, .tftp, .nfsRoot] : [.ssh]
  }

  static func timeout(_ stage: BootStage, _ timeouts: BootTimeouts) -> Double {
    switch stage {
    case .dhcp: timeouts.dhcp
    case .tftp: timeouts.tftp
    case .nfsRoot: timeouts.nfsRoot
    case .ssh: timeouts.ssh
    }
  }

  /// `reached`: when the boot ROM's DHCP request was seen and when the kernel was sent (only
  /// events after `poweredOn` count), from the boot events.
  public static func judge(
    _ node: Node, poweredOn: Date, now: Date, seen: Date?, kernelSent: Date?, sshUp: Bool, timeouts: BootTimeouts
  ) -> Verdict {
    if sshUp { return .up }
    var stage = stages(node)[0]
    var start = poweredOn
    if node.boot == .netboot {
      if let kernelSent, kernelSent >= poweredOn {
        (stage, start) = (.nfsRoot, kernelSent)
      } else if let seen, seen >= poweredOn {
        (stage, start) = (.tftp, seen)
      }
    }
    let deadline = start.addingTimeInterval(timeout(stage, timeouts))
    if now > deadline { return .stuck(stage, waited: now.timeIntervalSince(start)) }
    return .waiting(stage, since: start, deadline: deadline)
  }

  /// When the node's last boot was seen and its kernel sent, from its boot progress.
  public static func marks(_ progress: NodeBootProgress?) -> (seen: Date?, kernelSent: Date?) {
    let steps = progress?.steps ?? []
    return (steps.first { $0.phase == .seen }?.time, steps.first { $0.phase == .kernel }?.time)
  }
}
