#!/bin/sh
# `piswarm power off` (without --hard): asks the node to shut down cleanly and returns at once;
# the head then waits until SSH is gone before it cuts the power.
if [ -d /run/systemd/system ]; then
  # systemd queues the shutdown and returns; sshd goes with the rest.
  exec systemctl poweroff
fi
if [ -p /run/initctl ] || [ -p /dev/initctl ]; then
  # sysvinit.
  exec shutdown -h now
fi
# No init system to ask (a minimal system, or one of piswarm's lab nodes): stop Docker through
# its init script, so that dockerd and its containers end cleanly, flush the disks, then halt
# with reboot(2), a second later, once this SSH session has ended. In a PID namespace (a lab
# node) reboot(2) ends that namespace only.
if [ -x /etc/init.d/docker ]; then
  /etc/init.d/docker stop
fi
sync
if command -v busybox >/dev/null 2>&1; then
  (sleep 1 && busybox poweroff -f) </dev/null >/dev/null 2>&1 &
else
  (sleep 1 && poweroff -f) </dev/null >/dev/null 2>&1 &
fi
echo "halting"
