#!/usr/bin/env bash
# The demo: a virtual 3-node Pi cluster on this machine, then piswarm's main job on it: Docker
# set up on every node (node03 with diskless-style loopfile storage) and a highly available swarm
# of 3 managers. The lab stays up for you to explore; the last lines say how to reach it and take
# it down.
set -euo pipefail
bin=$(realpath "$1")
export PISWARM_STATE_DIR=${PISWARM_STATE_DIR:-/var/lib/piswarm}
lab=${LAB:-demo}
bold() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
step() { bold "$*"; "$@"; }

bold "$bin lab up --name $lab --nodes 3"
file=$("$bin" lab up --name "$lab" --nodes 3 | tee /dev/stderr | tail -n 1)
step "$bin" --file "$file" validate
step "$bin" --file "$file" node ls
key=$(dirname "$file")/id_ed25519
ssh_opts=(-i "$key" -o "UserKnownHostsFile=$PISWARM_STATE_DIR/known_hosts" -o StrictHostKeyChecking=yes -o BatchMode=yes)
for ip in $("$bin" --file "$file" node ls --json | python3 -c 'import json,sys; print(" ".join(n["ip"] for n in json.load(sys.stdin)))'); do
  bold "ssh root@$ip 'hostname; docker info --format ...'"
  ssh "${ssh_opts[@]}" "root@$ip" 'echo "host name: $(hostname)"; docker info --format "docker {{.ServerVersion}} on {{.Name}}, storage {{.Driver}}, images: {{.Images}}"'
done
# node03 keeps Docker in a loop-mounted ext4 image file, as a diskless Pi must (overlay2 cannot
# run on an NFS root).
grep -q 'docker_storage: loopfile' "$file" || sed -i 's/^  - name: node03$/  - name: node03\n    docker_storage: loopfile:4G/' "$file"
step "$bin" --file "$file" plan
step "$bin" --file "$file" up
step "$bin" --file "$file" status
bold "docker --context lab-$lab node ls"
DOCKER_CONFIG=${DOCKER_CONFIG:-$HOME/.docker} docker --context "lab-$lab" node ls
bold "ssh root@node03 'df -h /var/lib/docker; docker info --format ...'"
ssh "${ssh_opts[@]}" "root@$(sed -n 's/^    ip: //p' "$file" | sed -n 3p)" \
  'df -h /var/lib/docker | tail -n 1; docker info --format "storage {{.Driver}} on {{(index .DriverStatus 0)}}"'
step "$bin" --file "$file" up
step "$bin" lab ls

cat <<EOT

The lab is running. Try:
  ssh ${ssh_opts[*]} root@$(sed -n 's/^    ip: //p' "$file" | head -n 1)
  docker --context lab-$lab service create --name web --replicas 3 --no-resolve-image piswarm/base:latest sleep 1d
  PISWARM_STATE_DIR=$PISWARM_STATE_DIR $bin --file $file status
  PISWARM_STATE_DIR=$PISWARM_STATE_DIR $bin lab stop node02 --name $lab
  PISWARM_STATE_DIR=$PISWARM_STATE_DIR $bin lab down --name $lab     # removes everything
EOT
