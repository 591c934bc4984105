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

# Drop the copies of the host's loop-device and overlay mounts too (node roots, other
# tests' filesystems): a copy here keeps them busy, and their loop devices attached, after
# the host unmounts them. The filesystem holding this node's folder stays.
awk -v d="$D/" '{ i = 7; while ($i != "-") i++ }
  ($(i + 1) == "overlay" || $(i + 2) ~ "^/dev/loop") && $5 != "/" && index(d, $5 "/") != 1 { print $5 }'   /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done

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
# /tmp comes last: the node's folder may be below the host's /tmp. A bind that fails stops
# the node, so that nothing it runs can write into the host's files instead.
for pair in etc-ssh:/etc/ssh root:/root etc-docker:/etc/docker var-lib-docker:/var/lib/docker \
  var-lib-containerd:/var/lib/containerd var-log:/var/log hosts:/etc/hosts hostname:/etc/hostname \
  fstab:/etc/fstab var-lib-piswarm-node:/var/lib/piswarm-node etc-init.d:/etc/init.d tmp:/tmp; do
  [ -e "${pair#*:}" ] || mkdir -p "${pair#*:}"
  mount --bind "$D/${pair%%:*}" "${pair#*:}" || { echo "node02: cannot mount $D/${pair%%:*} on ${pair#*:}; stopping"; exit 1; }
done
# What a real node mounts at boot (Docker's storage, once 'piswarm up' set it up).
mount -a >>/var/log/mount.log 2>&1 || echo "node02: mount -a failed, see var-log/mount.log"

# Services are started from subshells that exit at once, so that they become children of
# tini, which reaps them; this shell turns into 'sleep', which would not.
(/usr/sbin/sshd -D -e -f /etc/ssh/sshd_config >>/var/log/sshd.log 2>&1 &)
/etc/init.d/docker start
echo "node02: sshd and dockerd started"
exec sleep infinity
