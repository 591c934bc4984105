/// The script dnsmasq runs (`dhcp-script` takes one path, no arguments): it hands every call on
/// to `piswarm netboot hook` with piswarm's state directory.
public enum HookScript {
  /// dnsmasq calls it with `add|old|del MAC IP [HOST]`, `tftp SIZE IP PATH` and, with
  /// `script-arp`, `arp-add|arp-del MAC IP`.
  ///
  /// A boot sends a dozen files or more, and dnsmasq runs its script calls one after another:
  /// only the transfers that move a node to another phase (`BootPhase.of(file:)`: the firmware,
  /// the Pi 5's device tree, the kernel) start piswarm; the shell filters the rest, which
  /// dnsmasq's log records anyway (`sent PATH to IP`).
  public static func render(piswarm: String, stateDirectory: String) throws(PiSwarmError) -> String {
    try SingleLine.check(piswarm, what: "the piswarm path")
    try SingleLine.check(stateDirectory, what: "the state directory")
    return """
      #!/bin/sh
      # Rendered by piswarm; 'piswarm netboot apply' overwrites edits.
      # dnsmasq runs this for leases, completed TFTP transfers and ARP changes; piswarm records
      # them as boot events ('piswarm netboot status', 'piswarm discover'). Of the transfers,
      # only those that mark a boot phase (firmware, kernel) are worth a process.
      if [ "$1" = tftp ]; then
        case "${4##*/}" in
          \(BootPhase.hookPatterns.joined(separator: "|"))) ;;
          *) exit 0 ;;
        esac
      fi
      exec \(Shell.quote(piswarm)) --state-dir \(Shell.quote(stateDirectory)) netboot hook -- "$@"

      """
  }
}
