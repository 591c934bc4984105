/// Every file a lab writes, rendered from its layout. Pure.
public enum LabFiles {
  /// The v1 cgroup hierarchies a node (and its containers) are placed in.
  public static let cgroupControllers = ["memory", "pids", "cpu,cpuacct", "blkio", "freezer", "devices", "systemd"]

  /// How a node starts its dockerd, at boot and after a crash, logs in the node's /var/log.
  public static let dockerStart = "/usr/sbin/dockerd --config-file /etc/docker/daemon.json >>/var/log/dockerd.log 2>&1"

  /// The node's docker service, as SysV init has it on a node without systemd: `/etc/init.d/docker
  /// start|stop|status`. The node's init starts dockerd through it, and 'piswarm up' stops and
  /// starts it as on any such node: the lab imitates a real node, piswarm knows no lab.
  public static let dockerService = """
    #!/bin/sh
    # piswarm lab node: its docker service (SysV style), start | stop | status.
    pidfile=/run/docker.pid
    running() { pid=$(cat "$pidfile" 2>/dev/null) && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }
    case "${1:-}" in
    start)
      running && exit 0
      rm -f "$pidfile"
      # Swarm tasks use the images the node has (no registry is reachable from a lab) unless
      # /etc/default/docker says otherwise (DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=0: they pull).
      DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1
      # shellcheck source=/dev/null
      if [ -r /etc/default/docker ]; then . /etc/default/docker; fi
      export DOCKER_SERVICE_PREFER_OFFLINE_IMAGE
      (setsid sh -c \(Shell.quote(dockerStart)) </dev/null >/dev/null 2>&1 &)
      ;;
    stop)
      running || exit 0
      kill -TERM "$pid"
      i=0
      while kill -0 "$pid" 2>/dev/null; do
        i=$((i + 1))
        [ $i -le 300 ] || { echo "dockerd (pid $pid) did not stop within 30 s" >&2; exit 1; }
        sleep 0.1
      done
      ;;
    status) running ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
    esac

    """

  public static func sshdConfig(_ node: LabLayout.Node) -> String {
    """
    # piswarm lab node \(node.name): key-only logins.
    Port 22
    ListenAddress \(node.ip)
    HostKey /etc/ssh/ssh_host_ed25519_key
    PidFile /run/sshd.pid
    PermitRootLogin prohibit-password
    PubkeyAuthentication yes
    AuthorizedKeysFile .ssh/authorized_keys
    PasswordAuthentication no
    KbdInteractiveAuthentication no
    UsePAM no
    UseDNS no
    MaxStartups 200
    MaxSessions 200
    X11Forwarding no
    PrintMotd no
    AcceptEnv LANG LC_*
    Subsystem sftp internal-sftp

    """
  }

  /// The node's dockerd settings: its own cgroup parent, its sockets and PID file in its own
  /// /run, and the keys 'piswarm up' owns already as it would write them for the lab's cluster
  /// file (so the first 'up' does not restart every dockerd).
  public static func daemonJSON(_ layout: LabLayout, _ node: LabLayout.Node) -> String {
    let base: JSONValue = .object([
      "cgroup-parent": .string("/\(layout.cgroup)/\(node.name)/docker"),
      "data-root": .string("/var/lib/docker"),
      "exec-root": .string("/run/docker"),
      "hosts": .array([.string("unix:///run/docker.sock")]),
      "iptables": .bool(true),
      "labels": .array([.string("piswarm.lab=\(layout.name)")]),
      "pidfile": .string("/run/docker.pid"),
      "shutdown-timeout": .number(15),
      "storage-driver": .string("overlay2"),
      "userland-proxy": .bool(false),
    ])
    let settings = DaemonConfig.Settings(
      cluster: clusterName(layout.name), node: node.name, docker: DockerSettings(), mountedStorage: false)
    // The base is a JSON object, so rendering cannot fail.
    return (try? DaemonConfig.render(existing: base.rendered(), settings)) ?? base.rendered()
  }

  /// The lab's cluster name in its cluster file.
  public static func clusterName(_ lab: String) -> String { "lab-\(lab)" }

  /// A node's own /etc/fstab, empty at first: 'piswarm up' adds the Docker storage block, and
  /// the node's init mounts it at every start, as a real node does at boot.
  public static let fstab = "# piswarm lab node: its own /etc/fstab (mounted by its init at every start)\n"

  public static func hosts(_ layout: LabLayout, _ node: LabLayout.Node) -> String {
    var lines = ["127.0.0.1\tlocalhost", "\(node.ip)\t\(node.name)", "\(layout.headAddress.address)\thead"]
    for other in layout.nodes where other != node { lines.append("\(other.ip)\t\(other.name)") }
    return lines.joined(separator: "\n") + "\n"
  }

  /// The node's init, run by tini as PID 1's child inside the node's namespaces.
  public static func initScript(_ layout: LabLayout, _ node: LabLayout.Node) -> String {
    let controllers = cgroupControllers.joined(separator: " ")
    return """
      #!/bin/sh
      # piswarm lab node \(node.name) of lab \(layout.name): runs under tini in the node's own mount,
      # UTS, IPC and PID namespaces and its network namespace \(node.namespace).
      D=\(Shell.quote(node.directory))
      set -u
      hostname \(node.name)

      # Join the node's cgroups (PID 1, tini, and this shell); containers go below via cgroup-parent.
      for c in \(controllers); do
        g=/sys/fs/cgroup/$c/\(layout.cgroup)/\(node.name)
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
        ($(i + 1) == "overlay" || $(i + 2) ~ "^/dev/loop") && $5 != "/" && index(d, $5 "/") != 1 { print $5 }' \
        /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done

      # The node's own sysfs (its own /sys/class/net), keeping the host's cgroup mounts.
      mkdir -p "$D/.cgroup"
      mount --rbind /sys/fs/cgroup "$D/.cgroup"
      umount -l /sys
      mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
      mount --move "$D/.cgroup" /sys/fs/cgroup

      # A fresh /run at every start: no stale docker.pid or sshd.pid from an earlier run.
      mount -t tmpfs -o mode=0755,nosuid,nodev,size=64m run-\(node.name) /run
      mkdir -p /run/sshd /run/lock && chmod 1777 /run/lock
      mount -t tmpfs -o mode=1777,nosuid,nodev,size=64m shm-\(node.name) /dev/shm

      # The node's private state over the host's folders.
      # /tmp comes last: the node's folder may be below the host's /tmp. A bind that fails stops
      # the node, so that nothing it runs can write into the host's files instead.
      for pair in etc-ssh:/etc/ssh root:/root etc-docker:/etc/docker var-lib-docker:/var/lib/docker \\
        var-lib-containerd:/var/lib/containerd var-log:/var/log hosts:/etc/hosts hostname:/etc/hostname \\
        fstab:/etc/fstab var-lib-piswarm-node:\(DockerStorageLayout.base) etc-init.d:/etc/init.d tmp:/tmp; do
        [ -e "${pair#*:}" ] || mkdir -p "${pair#*:}"
        mount --bind "$D/${pair%%:*}" "${pair#*:}" || { echo "\(node.name): cannot mount $D/${pair%%:*} on ${pair#*:}; stopping"; exit 1; }
      done
      # What a real node mounts at boot (Docker's storage, once 'piswarm up' set it up).
      mount -a >>/var/log/mount.log 2>&1 || echo "\(node.name): mount -a failed, see var-log/mount.log"

      # Services are started from subshells that exit at once, so that they become children of
      # tini, which reaps them; this shell turns into 'sleep', which would not.
      (/usr/sbin/sshd -D -e -f /etc/ssh/sshd_config >>/var/log/sshd.log 2>&1 &)
      /etc/init.d/docker start
      echo "\(node.name): sshd and dockerd started"
      exec sleep infinity

      """
  }

  /// The lab's cluster file: the host side of the bridge is the head; every node with its MAC,
  /// address and role; the lab power driver.
  public static func clusterFile(_ layout: LabLayout, managers: Int) -> String {
    var lines = [
      "# Written by 'piswarm lab up' for lab \(layout.name). 'piswarm lab down --name \(layout.name)' removes it.",
      "version: 1",
      "name: \(clusterName(layout.name))",
      "head:",
      "  interface: \(layout.hostInterface)",
      "  address: \(layout.headAddress)",
      "  lan: none",
      "  tftp_root: \(layout.directory)/tftp",
      "  nfs_root: \(layout.directory)/nfs",
      "  dnsmasq_conf: \(layout.directory)/dnsmasq.conf",
      "ssh:",
      "  user: root",
      "  key: \(YAMLText.scalar(layout.keyPath))",
      "defaults:",
      "  boot: preinstalled",
      "  docker_storage: root",
      "  power: { driver: lab, lab: \(layout.name) }",
      "swarm:",
      "  managers: [\(layout.nodes.prefix(managers).map(\.name).joined(separator: ", "))]",
      "  advertise: eth0",
      "  labels: { lab: \(layout.name) }",
      "nodes:",
    ]
    for node in layout.nodes {
      lines += ["  - name: \(node.name)", "    mac: \(node.mac)", "    ip: \(node.ip)", "    model: other"]
    }
    if layout.nodes.isEmpty { lines[lines.count - 1] = "nodes: []" }
    return lines.joined(separator: "\n") + "\n"
  }

  /// One known_hosts line pinning a node's host key (the public key file's type and key).
  public static func knownHostsLine(_ node: LabLayout.Node, publicKey: String) -> String {
    let fields = publicKey.split(whereSeparator: \.isWhitespace)
    return "\(node.ip) \(fields.prefix(2).joined(separator: " "))"
  }
}

extension String {
  func replacingAll(in target: Character, with replacement: String) -> String {
    var out = ""
    for character in self { if character == target { out += replacement } else { out.append(character) } }
    return out
  }
}
