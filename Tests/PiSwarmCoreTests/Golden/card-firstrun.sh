#!/bin/sh
# Written by piswarm burn for node07.
PISWARM_HOSTNAME=node07
PISWARM_USER=pi
PISWARM_AUTHORIZED_KEY='ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHN0dWIgY2x1c3RlciBrZXkgZm9yIHRlc3Rz piswarm@head'
PISWARM_HOST_KEY='-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
not-a-real-key
-----END OPENSSH PRIVATE KEY-----'
PISWARM_HOST_KEY_PUB='ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGhvc3Qga2V5IG9mIG5vZGUwNw root@node07'
PISWARM_TIMEZONE=Europe/Berlin
PISWARM_ADDRESS=10.0.0.17/24
PISWARM_DNS=10.0.0.1
PISWARM_CLONED_STATE='/var/lib/docker/swarm /var/lib/docker/containers /var/lib/docker/network /etc/docker/key.json'
# firstrun.sh's body: run once by systemd.run= at the card's first boot (Raspberry Pi OS's
# rpi-imager mechanism), after the variables above it. Sets the node's identity, enables
# key-only SSH with the host key piswarm made and pinned, then removes itself and its cmdline
# words; systemd.run_success_action=reboot boots the node normally.
set -eu
BOOT=$(dirname "$0")

echo "$PISWARM_HOSTNAME" >/etc/hostname
hostname "$PISWARM_HOSTNAME" 2>/dev/null || true
sed -i "s/^127\.0\.1\.1.*/127.0.1.1\t$PISWARM_HOSTNAME/" /etc/hosts
grep -q '^127\.0\.1\.1' /etc/hosts || printf '127.0.1.1\t%s\n' "$PISWARM_HOSTNAME" >>/etc/hosts

if [ "$PISWARM_USER" = root ]; then
  home=/root
else
  if ! id "$PISWARM_USER" >/dev/null 2>&1; then
    useradd -m -s /bin/bash "$PISWARM_USER"
  fi
  usermod -L "$PISWARM_USER"
  for group in sudo docker; do
    if getent group "$group" >/dev/null; then usermod -aG "$group" "$PISWARM_USER"; fi
  done
  home=$(getent passwd "$PISWARM_USER" | cut -d: -f6)
fi
install -d -m 0700 "$home/.ssh"
printf '%s\n' "$PISWARM_AUTHORIZED_KEY" >"$home/.ssh/authorized_keys"
chmod 0600 "$home/.ssh/authorized_keys"
chown -R "$PISWARM_USER:" "$home/.ssh"

rm -f /etc/ssh/ssh_host_*
printf '%s\n' "$PISWARM_HOST_KEY" >/etc/ssh/ssh_host_ed25519_key
printf '%s\n' "$PISWARM_HOST_KEY_PUB" >/etc/ssh/ssh_host_ed25519_key.pub
chmod 0600 /etc/ssh/ssh_host_ed25519_key
chmod 0644 /etc/ssh/ssh_host_ed25519_key.pub
mkdir -p /etc/ssh/sshd_config.d
printf 'PasswordAuthentication no\nKbdInteractiveAuthentication no\nHostKey /etc/ssh/ssh_host_ed25519_key\n' \
  >/etc/ssh/sshd_config.d/50-piswarm.conf
systemctl enable ssh >/dev/null 2>&1 || true
# Raspberry Pi OS regenerates host keys at first boot: not over the pinned one.
systemctl disable regenerate_ssh_host_keys >/dev/null 2>&1 || true

if [ -n "$PISWARM_TIMEZONE" ] && [ -e "/usr/share/zoneinfo/$PISWARM_TIMEZONE" ]; then
  ln -sf "/usr/share/zoneinfo/$PISWARM_TIMEZONE" /etc/localtime
  echo "$PISWARM_TIMEZONE" >/etc/timezone
fi

if [ -n "$PISWARM_ADDRESS" ] && [ -d /etc/NetworkManager/system-connections ]; then
  printf '[connection]\nid=piswarm\ntype=ethernet\nautoconnect-priority=100\n\n[ipv4]\nmethod=manual\naddress1=%s\ndns=%s\n\n[ipv6]\nmethod=ignore\n' \
    "$PISWARM_ADDRESS" "$PISWARM_DNS" >/etc/NetworkManager/system-connections/piswarm.nmconnection
  chmod 0600 /etc/NetworkManager/system-connections/piswarm.nmconnection
fi

# A card cloned from a captured node: that node's Docker engine and swarm identity go (dockerd
# does not run during this boot). The paths hold no white space.
# shellcheck disable=SC2086
rm -rf $PISWARM_CLONED_STATE

# This card's first boot was piswarm's: a cloud-init that found no seed would make new host keys.
if [ -d /etc/cloud ]; then touch /etc/cloud/cloud-init.disabled; fi

echo "piswarm firstrun for $PISWARM_HOSTNAME done at $(date)" >/var/lib/piswarm-firstrun
rm -f "$BOOT/firstrun.sh"
sed -i 's| systemd.run=[^ ]*||g; s| systemd.run_success_action=[^ ]*||g; s| systemd.unit=kernel-command-line.target||g' \
  "$BOOT/cmdline.txt"
exit 0
