#!/bin/sh
# Rendered by piswarm; 'piswarm netboot apply' overwrites edits.
# dnsmasq runs this for leases, completed TFTP transfers and ARP changes; piswarm records
# them as boot events ('piswarm netboot status', 'piswarm discover'). Of the transfers,
# only those that mark a boot phase (firmware, kernel) are worth a process.
if [ "$1" = tftp ]; then
  case "${4##*/}" in
    bootcode.bin|start*.elf|bcm2712*.dtb|kernel*.img|Image|vmlinuz*) ;;
    *) exit 0 ;;
  esac
fi
exec /usr/local/bin/piswarm --state-dir '/var/lib/pi swarm' netboot hook -- "$@"
