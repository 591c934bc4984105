#!/usr/bin/env bash
# The demo: a cluster file written and checked by piswarm, in a folder of its own.
set -euo pipefail
bin=$(realpath "$1")
demo=$(mktemp -d /tmp/piswarm-demo.XXXXXX)
cd "$demo"
export PISWARM_STATE_DIR="$demo/state"
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

step "$bin" init --name demo --interface eth1 --address 10.42.0.250/24 --lan dhcp
step "$bin" node add node01 --mac b8:27:eb:00:00:01 --model pi4 --label disk=ssd
step "$bin" node add node02 --mac b8:27:eb:00:00:02 --model pi4
step "$bin" node add node03 --mac b8:27:eb:00:00:03 --model pi3b+
step "$bin" validate
step "$bin" node ls
printf '\n\033[1m$ cat cluster.yml\033[0m (the end of it)\n'
tail -n 16 cluster.yml
printf '\nA mistake is reported where it is:\n'
sed 's/ip: 10.42.0.11$/ip: 10.42.1.11/; s/lan: dhcp/lan: dchp/' cluster.yml > broken.yml
step "$bin" validate --file broken.yml || true
echo
echo "demo files: $demo"
