#!/bin/sh
# Rendered by piswarm; 'piswarm netboot apply' overwrites edits.
# dnsmasq runs this for leases, completed TFTP transfers and ARP changes; piswarm records
# them as boot events ('piswarm netboot status', 'piswarm discover').
exec /usr/local/bin/piswarm --state-dir '/var/lib/pi swarm' netboot hook -- "$@"
