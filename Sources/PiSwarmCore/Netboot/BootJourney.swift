import Foundation

/// A netboot node's boot as `piswarm status` shows it, phase by phase: what the head observed
/// (DHCP/PXE, firmware and kernel over TFTP: the boot events), then what the live probes say
/// (the NFS root and SSH once SSH answers with the pinned key, dockerd once its API answers,
/// swarm ready once the swarm's view says so).
public enum BootJourney {
  /// The phases in order, as `status` names them.
  public static let phases = ["seen", "firmware", "kernel", "nfs-root", "ssh", "dockerd", "swarm-ready"]

  /// The furthest phase the node reached in its last boot; `observed` is the furthest phase
  /// of its boot events (`NodeBootProgress.phase`).
  public static func phase(observed: BootPhase?, sshUp: Bool, dockerUp: Bool, swarmState: String?) -> String {
    guard sshUp else { return observed?.rawValue ?? "never seen" }
    guard dockerUp else { return BootPhase.ssh.rawValue }
    return swarmState == "ready" ? "swarm-ready" : "dockerd"
  }

  /// When the last observed phase was reached (from the boot events); nil once SSH answers
  /// (the probes that say so are live).
  public static func since(observed time: Date?, sshUp: Bool) -> Date? { sshUp ? nil : time }
}
