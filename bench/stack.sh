#!/usr/bin/env bash
# Benchmark: 'piswarm stack deploy' of a two-service stack (web x4 with a placement constraint on
# a node label, agent global) on a 5-node lab swarm, until every task runs, beside, in the same
# run on the same swarm:
#  (a) the floor: 'docker stack deploy' on a manager over warm SSH, then a loop polling
#      'docker service ls' every 0.2 s until every service runs all its tasks;
#  (b) Ansible (PyPI 'ansible', community.docker.docker_stack on a manager, then an 'until' loop
#      on 'docker service ls', Ansible's own way to wait).
# Each run starts with the stack removed (services, networks and containers gone). Targets:
# within 1.2x of the floor, at least 3x faster than Ansible.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=.build-bench
swift build -c release --scratch-path "$scratch" --product piswarm >/dev/null
bin="$(pwd)/$scratch/release/piswarm"
command -v ansible-playbook >/dev/null || pip install -q ansible
# docker_stack needs jsondiff and PyYAML in the managers' Python (the lab's nodes share this machine's).
/usr/bin/python3 -c 'import jsondiff, yaml' 2>/dev/null || apt-get install -y -qq --no-install-recommends python3-jsondiff python3-yaml >/dev/null
state=$(mktemp -d /tmp/piswarm-bench-stack.XXXXXX)
export PISWARM_STATE_DIR=$state DOCKER_CONFIG=$state/docker-config
trap '"$bin" lab down --name bst >/dev/null 2>&1 || true; rm -rf "$state"' EXIT
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; load: $(uptime | sed 's/.*load average: //'); $(ansible --version | head -1); docker CLI $(docker version --format '{{.Client.Version}}' 2>/dev/null || true)"
file=$("$bin" lab up --name bst --nodes 5 --managers 3 2>/dev/null | tail -n 1)
sed -i 's/^  - name: node0\([2-5]\)$/  - name: node0\1\n    labels: { tier: web }/' "$file"
"$bin" --file "$file" up >/dev/null 2>&1
key=$(dirname "$file")/id_ed25519
mapfile -t ips < <(sed -n 's/^    ip: //p' "$file")
compose=$(pwd)/bench/stack-compose.yml
opts=(-F /dev/null -i "$key" -o UserKnownHostsFile="$state/known_hosts" -o StrictHostKeyChecking=yes -o BatchMode=yes
  -o ControlMaster=auto -o ControlPath="$state/root@%h" -o ControlPersist=300 -o LogLevel=ERROR -l root)
# shellcheck disable=SC2029 # the remote command is meant to be expanded here, on the head
on() { ssh "${opts[@]}" "${ips[0]}" "$@"; }
now() { date +%s.%N; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
running() {  # every service of the stack runs all its tasks
  local lines
  lines=$(on docker service ls --filter label=com.docker.stack.namespace=demo --format "'{{.Replicas}}'")
  [ "$(grep -cE '^([0-9]+)/\1$' <<<"$lines")" = 2 ]
}
reset() {  # the stack gone: services, networks, containers
  on docker stack rm demo >/dev/null 2>&1 || true
  while [ -n "$(on docker service ls -q --filter label=com.docker.stack.namespace=demo)$(on docker network ls -q --filter label=com.docker.stack.namespace=demo)" ]; do sleep 0.2; done
  "$bin" --file "$file" exec all -- sh -c 'while docker ps -q --filter label=com.docker.stack.namespace=demo | grep -q .; do sleep 0.2; done' >/dev/null 2>&1
}
{
  echo "[first]"; echo "node01 ansible_host=${ips[0]}"
  echo "[all:vars]"; echo "ansible_user=root"; echo "ansible_python_interpreter=/usr/bin/python3"
  echo "ansible_ssh_private_key_file=$key"; echo "compose_file=$compose"
  echo "ansible_ssh_common_args='-o UserKnownHostsFile=$state/known_hosts -o StrictHostKeyChecking=yes'"
} > "$state/inventory"

ps=(); gs=(); fs=(); as=()
# REPEAT rounds (default 3), the three runs interleaved so that load hits them alike; medians.
for ((round = 0; round < ${REPEAT:-3}; round++)); do
  reset; "$bin" --file "$file" exec all -- true >/dev/null 2>&1   # warm masters
  t0=$(now); "$bin" --file "$file" stack deploy demo -c "$compose" --resolve-image never >/dev/null 2>"$state/piswarm.log"; t1=$(now)
  ps+=("$(echo "$t1 - $t0" | bc)")
  running || { echo "piswarm: not all running after it returned"; cat "$state/piswarm.log"; }
  t0=$(now); "$bin" --file "$file" stack deploy demo -c "$compose" --resolve-image never >/dev/null 2>&1; t1=$(now)
  gs+=("$(echo "$t1 - $t0" | bc)")
  reset
  t0=$(now)
  on docker stack deploy --resolve-image never --detach=true -c "$compose" demo >/dev/null 2>&1
  until running; do sleep 0.2; done
  t1=$(now)
  fs+=("$(echo "$t1 - $t0" | bc)")
  reset
  t0=$(now)
  ANSIBLE_HOST_KEY_CHECKING=True ANSIBLE_STDOUT_CALLBACK=dense ansible-playbook -i "$state/inventory" bench/stack-playbook.yml >"$state/ansible.log" 2>&1 || { echo "ansible failed:"; tail -20 "$state/ansible.log"; }
  t1=$(now)
  as+=("$(echo "$t1 - $t0" | bc)")
  running || echo "ansible: not all running after it returned"
done
reset
piswarm=$(median "${ps[@]}"); again=$(median "${gs[@]}"); floorTime=$(median "${fs[@]}"); ansibleTime=$(median "${as[@]}")
printf 'stack of 2 services (4 + 5 tasks) on 5 nodes: piswarm stack deploy %.2f s (again, no change: %.2f s); floor %.2f s (piswarm/floor %.2fx); ansible %.1f s (%.1fx slower than piswarm)   [piswarm: %s; floor: %s; ansible: %s]\n' \
  "$piswarm" "$again" "$floorTime" "$(echo "$piswarm / $floorTime" | bc -l)" "$ansibleTime" "$(echo "$ansibleTime / $piswarm" | bc -l)" \
  "${ps[*]}" "${fs[*]}" "${as[*]}"
echo "load after: $(uptime | sed 's/.*load average: //')"
