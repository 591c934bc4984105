#!/bin/sh
# Rendered by piswarm; 'piswarm netboot apply' overwrites edits.
# dnsmasq runs this as root for leases, completed TFTP transfers and ARP changes, one call
# after another. It appends the events that say something about a boot to a spool that
# 'piswarm netboot status', 'discover', 'power' and 'serve' read, one record per event:
# an empty field, piswarm-hook-1, TIME VENDOR-CLASS COUNT ARGUMENTS... end, each
# field ended by a NUL byte (no argument can hold one). Shell builtins and one 'date' (and
# 'wc' every 256 records): no piswarm process.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
umask 077
count='/var/lib/pi swarm/netboot/hook-events.count'
log='/var/lib/pi swarm/netboot/dnsmasq.log'
case "$1" in
  add | old | del | arp-add | arp) ;;
  tftp)
    # Of the transfers, only those that mark a boot phase; dnsmasq's log has them all.
    case "${4##*/}" in
      bootcode.bin | start*.elf | bcm2712*.dtb | kernel*.img | Image | vmlinuz*) ;;
      *) exit 0 ;;
    esac
    ;;
  *) exit 0 ;;
esac
# Two segments of 10000 records: when one is full the other is emptied and
# written next, so the spool stays bounded whether anyone reads it or not.
{ read -r n <"$count"; } 2>/dev/null || n=0
case "$n" in '' | *[!0-9]* | ??????????*) n=0 ;; esac
n=$(((n + 1) % 20000))
if [ "$n" -lt 10000 ]; then
  spool='/var/lib/pi swarm/netboot/hook-events.0'
else
  spool='/var/lib/pi swarm/netboot/hook-events.1'
fi
if [ $((n % 10000)) -eq 0 ]; then : >"$spool"; fi
printf '%s\n' "$n" >"$count"
printf '%s\0' '' piswarm-hook-1 "$(date +%s.%N)" "${DNSMASQ_VENDOR_CLASS-}" "$#" "$@" end >>"$spool"
# dnsmasq's log, checked every 256 records.
if [ $((n % 256)) -eq 0 ] && [ -f "$log" ] && [ ! -L "$log" ]; then
  size=$(wc -c <"$log")
  if [ "${size:-0}" -gt 8388608 ]; then
    cat "$log" >"$log.1.new" && mv -f "$log.1.new" "$log.1" && : >"$log"
  fi
fi
exit 0
