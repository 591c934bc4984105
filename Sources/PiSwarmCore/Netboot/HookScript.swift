/// The script dnsmasq runs (`dhcp-script` takes one path, no arguments): it records the events
/// that say something about a boot in the hook's spool (`HookSpool`), with shell builtins and
/// one `date`. It starts no piswarm process.
public enum HookScript {
  /// dnsmasq calls it with `add|old|del MAC IP [HOST]`, `tftp SIZE IP PATH` and, with
  /// `script-arp`, `arp-add|arp-del MAC IP`, one call after another (a call holds up the next).
  ///
  /// Kept: leases, ARP changes, and the transfers that move a node to another phase
  /// (`BootPhase.of(file:)`: the firmware, the Pi 5's device tree, the kernel), which carry the
  /// sub-second times the boot phases are ordered by; dnsmasq's log has every transfer anyway
  /// (`sent PATH to IP`). Every `logCheckEvery` records the script also keeps dnsmasq's log
  /// (`log`) bounded as `DnsmasqLogRotation` does: past `logLimit` bytes its content moves to
  /// `LOG.1` and the log is emptied in place (dnsmasq appends, so it goes on at the new end).
  public static func render(
    spool: String, log: String, logLimit: Int64, segmentRecords: Int = HookSpool.segmentRecords, logCheckEvery: Int = 256
  ) throws(PiSwarmError) -> String {
    try SingleLine.check(spool, what: "the hook's spool")
    try SingleLine.check(log, what: "dnsmasq's log")
    let segments = HookSpool.segments(spool)
    return """
      #!/bin/sh
      # Rendered by piswarm; 'piswarm netboot apply' overwrites edits.
      # dnsmasq runs this as root for leases, completed TFTP transfers and ARP changes, one call
      # after another. It appends the events that say something about a boot to a spool that
      # 'piswarm netboot status', 'discover', 'power' and 'serve' read, one record per event:
      # an empty field, \(HookSpool.magic), TIME VENDOR-CLASS COUNT ARGUMENTS... \(HookSpool.end), each
      # field ended by a NUL byte (no argument can hold one). Shell builtins and one 'date' (and
      # 'wc' every \(logCheckEvery) records): no piswarm process.
      PATH=/usr/sbin:/usr/bin:/sbin:/bin
      umask 077
      count=\(Shell.quote(HookSpool.counter(spool)))
      log=\(Shell.quote(log))
      case "$1" in
        add | old | del | arp-add | arp) ;;
        tftp)
          # Of the transfers, only those that mark a boot phase; dnsmasq's log has them all.
          case "${4##*/}" in
            \(BootPhase.hookPatterns.joined(separator: " | "))) ;;
            *) exit 0 ;;
          esac
          ;;
        *) exit 0 ;;
      esac
      # Two segments of \(segmentRecords) records: when one is full the other is emptied and
      # written next, so the spool stays bounded whether anyone reads it or not.
      { read -r n <"$count"; } 2>/dev/null || n=0
      case "$n" in '' | *[!0-9]* | ??????????*) n=0 ;; esac
      n=$(((n + 1) % \(2 * segmentRecords)))
      if [ "$n" -lt \(segmentRecords) ]; then
        spool=\(Shell.quote(segments[0]))
      else
        spool=\(Shell.quote(segments[1]))
      fi
      if [ $((n % \(segmentRecords))) -eq 0 ]; then : >"$spool"; fi
      printf '%s\\n' "$n" >"$count"
      printf '%s\\0' '' \(HookSpool.magic) "$(date +%s.%N)" "${DNSMASQ_VENDOR_CLASS-}" "$#" "$@" \(HookSpool.end) >>"$spool"
      # dnsmasq's log, checked every \(logCheckEvery) records.
      if [ $((n % \(logCheckEvery))) -eq 0 ] && [ -f "$log" ] && [ ! -L "$log" ]; then
        size=$(wc -c <"$log")
        if [ "${size:-0}" -gt \(logLimit) ]; then
          cat "$log" >"$log.1.new" && mv -f "$log.1.new" "$log.1" && : >"$log"
        fi
      fi
      exit 0

      """
  }
}
