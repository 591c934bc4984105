#!/bin/sh
# piswarm lab node node02 of lab demo: runs under tini in the node's own mount,
# UTS, IPC and PID namespaces and its network namespace pslab-demo-node02.
D=/var/lib/piswarm/labs/demo/nodes/node02
set -u
hostname node02

# Join the node's cgroups (PID 1, tini, and this shell); containers go below via cgroup-parent.
for c in memory pids cpu,cpuacct blkio freezer devices systemd; do
  g=/sys/fs/cgroup/$c/pslab-demo/node02
  [ -d "/sys/fs/cgroup/$c" ] || continue
  mkdir -p "$g" && echo 1 > "$g/cgroup.procs" && echo $$ > "$g/cgroup.procs"
done

# Drop this mount namespace's copies of /run/netns/*: they would keep other nodes' network
# namespaces alive after they are deleted.
awk '$5 ~ "^/run/netns(/|$)" {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done

# The node's own sysfs (its own /sys/class/net), keeping the host's cgroup mounts.
mkdir -p "$D/.cgroup"
mount --rbind /sys/fs/cgroup "$D/.cgroup"
umount -l /sys
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount --move "$D/.cgroup" /sys/fs/cgroup

# A fresh /run at every start: no stale docker.pid or sshd.pid from an earlier run.
mount -t tmpfs -o mode=0755,nosuid,nodev,size=64m run-node02 /run
mkdir -p /run/sshd /run/lock && chmod 1777 /run/lock
mount -t tmpfs -o mode=1777,nosuid,nodev,size=64m shm-node02 /dev/shm

# The node's private state over the host's folders.
for pair in etc-ssh:/etc/ssh root:/root etc-docker:/etc/docker var-lib-docker:/var/lib/docker \
  var-lib-containerd:/var/lib/containerd var-log:/var/log hosts:/etc/hosts hostname:/etc/hostname tmp:/tmp; do
  mkdir -p "${pair#*:}" 2>/dev/null
  mount --bind "$D/${pair%%:*}" "${pair#*:}"
done

# Services are started from subshells that exit at once, so that they become children of
# tini, which reaps them; this shell turns into 'sleep', which would not.
(/usr/sbin/sshd -D -e -f /etc/ssh/sshd_config >>/var/log/sshd.log 2>&1 &)
(DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 /usr/sbin/dockerd --config-file /etc/docker/daemon.json >>/var/log/dockerd.log 2>&1 &)
echo "node02: sshd and dockerd started"
exec sleep infinity
