/// The script dnsmasq runs (`dhcp-script` takes one path, no arguments): it hands every call on
/// to `piswarm netboot hook` with piswarm's state directory.
public enum HookScript {
  /// dnsmasq calls it with `add|old|del MAC IP [HOST]`, `tftp SIZE IP PATH` and, with
  /// `script-arp`, `arp-add|arp-del MAC IP`.
  public static func render(piswarm: String, stateDirectory: String) throws(PiSwarmError) -> String {
    try SingleLine.check(piswarm, what: "the piswarm path")
    try SingleLine.check(stateDirectory, what: "the state directory")
    return """
      #!/bin/sh
      # Rendered by piswarm; 'piswarm netboot apply' overwrites edits.
      # dnsmasq runs this for leases, completed TFTP transfers and ARP changes; piswarm records
      # them as boot events ('piswarm netboot status', 'piswarm discover').
      exec \(Shell.quote(piswarm)) --state-dir \(Shell.quote(stateDirectory)) netboot hook -- "$@"

      """
  }
}
