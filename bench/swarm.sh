#!/usr/bin/env bash
# Benchmark: 'piswarm up' from running lab nodes to a full swarm (3 managers, the rest workers,
# a label on every node) for 3, 10 and 30 nodes, beside, in the same run on the same nodes:
#  (a) the floor: the shortest hand-written sequence of docker CLI calls over warm SSH
#      (init; join-token; managers join one at a time; workers in parallel; one label call per node);
#  (b) Ansible (PyPI 'ansible', its community.docker docker_swarm/docker_node modules), forks 32.
# Every run starts from nodes that left any swarm. Targets: within 1.3x of the floor, at least 5x
# faster than Ansible, and 30 nodes in under 1.5x the time of 10.
# SIZES (default "3 10 30"; the lab has as many nodes as the largest), REPEAT (rounds, default 3),
# ANSIBLE=0 leaves Ansible out (at 100 nodes it takes minutes a round), PISWARM_BIN.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
bin=$(piswarm_bin)
sizes=${SIZES:-3 10 30}
labNodes=$(tr ' ' '\n' <<<"$sizes" | sort -n | tail -1)
width=$((${#labNodes} > 2 ? ${#labNodes} : 2))  # the lab's node names: node01…, node001… from 100 nodes
lab="bsw$$"
ansible=${ANSIBLE:-1}
[ "$ansible" = 0 ] || command -v ansible-playbook >/dev/null || pip install -q ansible
dpkg -s python3-docker >/dev/null 2>&1 || apt-get install -y -qq --no-install-recommends python3-docker >/dev/null
state=$(mktemp -d /tmp/piswarm-bench-swarm.XXXXXX)
export PISWARM_STATE_DIR=$state
trap '"$bin" lab down --name "$lab" >/dev/null 2>&1 || true; rm -rf "$state"' EXIT
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; load $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$ansible" = 0 ] || ansible --version | head -1
start=$(date +%s.%N)
file=$("$bin" lab up --name "$lab" --nodes "$labNodes" --managers 3 2>/dev/null | tail -n 1)
printf 'lab up --nodes %d: %.1f s\n' "$labNodes" "$(echo "$(date +%s.%N) - $start" | bc)"
key=$(dirname "$file")/id_ed25519
mapfile -t ips < <(sed -n 's/^    ip: //p' "$file")
opts=(-F /dev/null -i "$key" -o UserKnownHostsFile="$state/known_hosts" -o StrictHostKeyChecking=yes -o BatchMode=yes
  -o ControlMaster=auto -o ControlPath="$state/ssh/root@%h" -o ControlPersist=300 -o LogLevel=ERROR -l root)
# shellcheck disable=SC2029 # the remote command is meant to be expanded here, on the head
on() { local ip=$1; shift; ssh "${opts[@]}" "$ip" "$@"; }
now() { date +%s.%N; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
reset() {  # every node leaves its swarm
  "$bin" --file "$file" exec all --parallel 32 -- docker swarm leave --force >/dev/null 2>&1 || true
}

# A join that dockerd stopped waiting for (after 20 s: "The attempt to join the swarm will continue
# in the background", exit 1) is waited for by hand, as its message says: until the node is active.
join() {  # ip token
  on "$1" docker swarm join --advertise-addr "$1" --token "$2" "${ips[0]}:2377" >/dev/null 2>&1 && return
  until [ "$(on "$1" docker info --format '{{.Swarm.LocalNodeState}}')" = active ]; do sleep 0.5; done
}

floor() {  # n
  local n=$1 i
  on "${ips[0]}" docker swarm init --advertise-addr "${ips[0]}" >/dev/null
  local mt wt; mt=$(on "${ips[0]}" docker swarm join-token -q manager); wt=$(on "${ips[0]}" docker swarm join-token -q worker)
  for i in 1 2; do join "${ips[$i]}" "$mt"; done
  for ((i = 3; i < n; i++)); do join "${ips[$i]}" "$wt" & done
  wait
  for ((i = 1; i <= n; i++)); do printf 'node%0*d\n' "$width" "$i"; done | xargs -P 32 -I{} ssh "${opts[@]}" "${ips[0]}" docker node update --label-add lab=bench {} >/dev/null
}

ansible_inventory() {  # n
  local n=$1 i
  {
    echo "[first]"; printf 'node%0*d ansible_host=%s\n' "$width" 1 "${ips[0]}"
    echo "[other_managers]"; for i in 1 2; do printf 'node%0*d ansible_host=%s\n' "$width" $((i + 1)) "${ips[$i]}"; done
    echo "[workers]"; for ((i = 3; i < n; i++)); do printf 'node%0*d ansible_host=%s\n' "$width" $((i + 1)) "${ips[$i]}"; done
    echo "[all:vars]"; echo "ansible_user=root"; echo "ansible_python_interpreter=/usr/bin/python3"
    echo "ansible_ssh_private_key_file=$key"
    echo "ansible_ssh_common_args='-o UserKnownHostsFile=$state/known_hosts -o StrictHostKeyChecking=yes'"
  } > "$state/inventory$n"
}

for n in $sizes; do
  head -n $((n + 0)) <(printf '%s\n' "${ips[@]}") > /dev/null
  # The cluster file for n nodes: the first n nodes of the lab's.
  python3 - "$file" "$n" > "$state/cluster$n.yml" <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")
n = int(sys.argv[2]); out = []; count = 0
for line in lines:
    if line.startswith("  - name: "):
        count += 1
    if count > n and (line.startswith("  - name: ") or line.startswith("    ")):
        continue
    out.append(line)
print("\n".join(out))
PY
  ansible_inventory "$n"
  ps=(); gs=(); fs=(); as=(); joined=(); floorJoined=()
  # REPEAT rounds (default 3), the three runs interleaved so that load hits them alike; medians.
  for ((round = 0; round < ${REPEAT:-3}; round++)); do
    reset; "$bin" --file "$state/cluster$n.yml" exec all -- true >/dev/null 2>&1   # warm masters for all
    t0=$(now); "$bin" --file "$state/cluster$n.yml" up >/dev/null 2>"$state/up$n.log" || echo "piswarm up failed: $(grep -c 'join failed' "$state/up$n.log") join(s) failed"; t1=$(now)
    ps+=("$(echo "$t1 - $t0" | bc)")
    joined+=("$(on "${ips[0]}" docker node ls --format '{{.Status}}' | grep -c Ready || true)")
    t0=$(now); "$bin" --file "$state/cluster$n.yml" up >/dev/null 2>&1; t1=$(now)
    gs+=("$(echo "$t1 - $t0" | bc)")
    reset
    t0=$(now); floor "$n"; t1=$(now)
    fs+=("$(echo "$t1 - $t0" | bc)")
    floorJoined+=("$(on "${ips[0]}" docker node ls --format '{{.Status}}' | grep -c Ready || true)")
    [ "$ansible" = 0 ] && continue
    reset
    t0=$(now)
    ANSIBLE_HOST_KEY_CHECKING=True ANSIBLE_FORKS=32 ANSIBLE_STDOUT_CALLBACK=dense ansible-playbook -i "$state/inventory$n" bench/swarm-playbook.yml >"$state/ansible$n.log" 2>&1 || { echo "ansible failed:"; tail -20 "$state/ansible$n.log"; }
    t1=$(now)
    as+=("$(echo "$t1 - $t0" | bc)")
    ready=$(on "${ips[0]}" docker node ls --format '{{.Status}}' | grep -c Ready || true)
  done
  reset
  piswarm=$(median "${ps[@]}"); again=$(median "${gs[@]}"); floorTime=$(median "${fs[@]}"); ansibleTime=0; [ "${#as[@]}" = 0 ] || ansibleTime=$(median "${as[@]}")
  printf '%2d nodes: piswarm up %.2f s (second up %.2f s); floor %.2f s (piswarm/floor %.2fx); ansible %.1f s (%.1fx slower than piswarm; %s Ready after it)   [piswarm: %s (Ready after it: %s); second: %s; floor: %s (Ready: %s); ansible: %s; load %s]\n' \
    "$n" "$piswarm" "$again" "$floorTime" "$(echo "$piswarm / $floorTime" | bc -l)" "$ansibleTime" "$(echo "$ansibleTime / $piswarm" | bc -l)" "${ready:-}" \
    "${ps[*]}" "${joined[*]}" "${gs[*]}" "${fs[*]}" "${floorJoined[*]}" "${as[*]}" "$(cut -d' ' -f1-3 /proc/loadavg)"
done
