#!/bin/sh
# Stands in for a tool a power driver runs (snmpset, snmpget, curl, openssl) in the drivers'
# tests, linked under the tool's name in a folder of the test's own. It appends the command line
# it was given to argv.log and its environment to env.log beside it (the test greps both for
# credentials: neither may carry one), then runs the real tool of that name from PATH: inside
# the network namespace named in the file `netns` beside it when there is one.
set -eu
here=$(dirname "$0")
tool=$(basename "$0")
printf '%s %s\n' "$tool" "$*" >>"$here/argv.log"
env >>"$here/env.log"
if [ -s "$here/netns" ]; then
	exec nsenter --net="/run/netns/$(cat "$here/netns")" "$tool" "$@"
fi
exec "$tool" "$@"
