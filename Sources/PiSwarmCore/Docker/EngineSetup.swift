import Foundation

/// Docker on a node: installed, configured by daemon.json, its storage where cluster.yml says.
/// One remote script reads the node (`probeScript`); `plan` decides, purely; one remote script
/// applies the plan (`applyScript`), idempotently.
public enum EngineSetup {
  /// What the probe read on a node.
  public struct State: Sendable, Equatable {
    public var docker: Bool
    public var apt: Bool
    public var daemonJSON: String?
    public var fstab: String
    /// The storage mode set up last (the marker file); nil means root.
    public var storageMode: String?
    /// Whether the storage of `storageMode` is mounted at `/var/lib/docker`.
    public var storageMounted: Bool

    public init(
      docker: Bool, apt: Bool, daemonJSON: String?, fstab: String, storageMode: String?, storageMounted: Bool
    ) {
      self.docker = docker
      self.apt = apt
      self.daemonJSON = daemonJSON
      self.fstab = fstab
      self.storageMode = storageMode
      self.storageMounted = storageMounted
    }
  }

  /// What to do to the storage.
  public enum StorageStep: Sendable, Equatable {
    case keep
    /// From the root filesystem to a piswarm mount; what `/var/lib/docker` and
    /// `/var/lib/containerd` hold is copied over, so a node keeps its swarm identity.
    case migrate
    /// A loopfile grown to its new size (offline: dockerd stops meanwhile).
    case grow
    /// A tmpfs remounted with its new size limit.
    case resize
    /// Set up as cluster.yml says, but not mounted (a failed mount at boot, or a run that was
    /// interrupted): finished and mounted again, as `migrate` does, keeping what is there.
    case repair
  }

  public struct Plan: Sendable, Equatable {
    public var install = false
    /// The new daemon.json, when it changes.
    public var daemonJSON: String?
    /// The new /etc/fstab, when it changes.
    public var fstab: String?
    public var storage = StorageStep.keep
    /// dockerd restarts (only for a changed daemon.json; storage steps stop and start it).
    public var restart = false

    public init() {}

    public var isEmpty: Bool { !install && daemonJSON == nil && fstab == nil && storage == .keep && !restart }
    /// Whether dockerd is stopped while this plan is applied.
    public var stopsDocker: Bool { restart || storage == .migrate || storage == .repair || storage == .grow }

    /// In words, for `plan`, `up` and the journal.
    public func actions(_ node: Node) -> [String] {
      var actions: [String] = []
      if install { actions.append("install docker.io") }
      switch storage {
      case .keep: break
      case .migrate: actions.append("storage \(node.dockerStorage)")
      case .grow: actions.append("grow storage to \(node.dockerStorage)")
      case .resize: actions.append("resize storage to \(node.dockerStorage)")
      case .repair: actions.append("mount storage \(node.dockerStorage)")
      }
      if fstab != nil, storage == .keep { actions.append("fstab") }
      if daemonJSON != nil { actions.append("daemon.json") }
      if restart { actions.append("restart dockerd") }
      return actions
    }
  }

  public static let probeKeys = ["docker", "apt", "daemon_json", "fstab", "storage_mode", "storage_mounted"]

  /// Reads what `plan` needs in one round trip. Files come back in base64.
  public static let probeScript = """
    if command -v dockerd >/dev/null 2>&1; then echo docker=yes; else echo docker=no; fi
    if command -v apt-get >/dev/null 2>&1; then echo apt=yes; fi
    if [ -f \(DaemonConfig.path) ]; then echo "daemon_json=$(base64 -w0 \(DaemonConfig.path))"; fi
    if [ -f /etc/fstab ]; then echo "fstab=$(base64 -w0 /etc/fstab)"; fi
    mode=$(cat \(DockerStorageLayout.marker) 2>/dev/null || true)
    echo "storage_mode=$mode"
    case $mode in
    tmpfs:*) [ "$(stat -f -c %T \(DockerStorageLayout.dataRoot) 2>/dev/null)" != tmpfs ] || echo storage_mounted=yes ;;
    ?*) mountpoint -q \(DockerStorageLayout.store) 2>/dev/null \\
      && [ "$(stat -c %d \(DockerStorageLayout.store))" = "$(stat -c %d \(DockerStorageLayout.dataRoot) 2>/dev/null)" ] \\
      && echo storage_mounted=yes ;;
    esac
    true
    """

  public static func parse(_ output: String) -> State {
    let facts = KeyValueLines.parse(output, keys: probeKeys)
    func decoded(_ key: String) -> String? {
      guard let text = facts[key] else { return nil }
      return Data(base64Encoded: text).map { String(decoding: $0, as: UTF8.self) }
    }
    return State(
      docker: facts["docker"] == "yes", apt: facts["apt"] == "yes", daemonJSON: decoded("daemon_json"),
      fstab: decoded("fstab") ?? "", storageMode: facts["storage_mode"], storageMounted: facts["storage_mounted"] == "yes")
  }

  /// What to change on `node`, read as `state`. Throws what cannot be done safely: a daemon.json
  /// that is not JSON, no way to install Docker, a storage change that would lose data.
  public static func plan(_ state: State, cluster: Cluster, node: Node) throws(PiSwarmError) -> Plan {
    var plan = Plan()
    if !state.docker {
      guard state.apt else {
        throw PiSwarmError(
          .invalidInput, "Docker is not installed on \(node.name) and it has no apt-get",
          advice: "install Docker Engine on the node yourself (its distribution's package), then run again")
      }
      plan.install = true
    }
    let desired = node.dockerStorage
    let current: DockerStorage
    switch state.storageMode.map(DockerStorage.parse) {
    case nil: current = .root
    case .success(let mode)?: current = mode
    case .failure?:
      throw PiSwarmError(
        .invalidInput,
        "\(DockerStorageLayout.marker) on \(node.name) holds \"\(state.storageMode ?? "")\", not a storage mode",
        advice: "write the mode the node's storage has (e.g. loopfile:16G) into it, or remove it if the storage is root")
    }
    switch (current, desired) {
    case _ where current == desired:
      plan.storage = desired != .root && !state.storageMounted ? .repair : .keep
    case (.root, _):
      plan.storage = .migrate
    case (.loopfile(let old), .loopfile(let new)):
      guard new > old else {
        throw PiSwarmError(
          .invalidInput, "\(node.name): the loopfile cannot shrink from \(old) to \(new)",
          advice: "set docker_storage: loopfile:\(old) (or larger) for \(node.name) in cluster.yml")
      }
      plan.storage = .grow
    case (.tmpfs, .tmpfs):
      plan.storage = .resize
    default:
      throw PiSwarmError(
        .invalidInput,
        "\(node.name): Docker's storage is \(current) and cluster.yml says \(desired); piswarm changes it only from root, "
          + "to keep the node's images and swarm identity",
        advice:
          "keep docker_storage: \(current) for \(node.name), or remove the node from the swarm ('piswarm swarm rm \(node.name)'), "
          + "undo its storage by hand (unmount /var/lib/docker and /var/lib/containerd, delete piswarm's block in /etc/fstab "
          + "and \(DockerStorageLayout.marker)) and run 'piswarm up' again")
    }
    let fstab = DockerStorageLayout.fstab(existing: state.fstab, storage: desired)
    if fstab != state.fstab { plan.fstab = fstab }
    let daemon = try DaemonConfig.render(existing: state.daemonJSON, DaemonConfig.Settings(cluster, node))
    // The same settings in another layout are no reason to restart dockerd.
    if daemon != state.daemonJSON, JSONValue.parse(daemon) != state.daemonJSON.flatMap(JSONValue.parse) {
      plan.daemonJSON = daemon
      plan.restart = state.docker
    }
    return plan
  }

  /// The arguments of `applyScript` for `plan` (after `sh -c SCRIPT piswarm`).
  public static func applyArguments(_ plan: Plan, node: Node, format: Bool) -> [String] {
    let step: String =
      switch plan.storage {
      case .keep: "keep"
      case .migrate: "migrate"
      case .grow: "grow"
      case .resize: "resize"
      case .repair: "repair"
      }
    let (kind, argument): (String, String) =
      switch node.dockerStorage {
      case .root: ("root", "")
      case .loopfile(let size): ("loopfile", String(size.bytes))
      case .device(let path): ("device", path)
      case .tmpfs(let size): ("tmpfs", String(size.bytes))
      }
    return [
      step, kind, argument, format ? "1" : "0", plan.install ? "1" : "0",
      plan.daemonJSON.map { Data($0.utf8).base64EncodedString() } ?? "",
      plan.fstab.map { Data($0.utf8).base64EncodedString() } ?? "",
      node.dockerStorage.description, plan.stopsDocker ? "1" : "0", node.role.rawValue,
      DockerStorageLayout.systemdDropInText(node.dockerStorage).map { Data($0.utf8).base64EncodedString() } ?? "",
    ]
  }

  /// Applies a plan on the node; its arguments come from `applyArguments`. It checks what it can
  /// before it stops anything, stops dockerd only for a storage step or a changed daemon.json,
  /// writes every file through a temporary file and a rename, and, when the node was in a swarm,
  /// waits for it to be back (a manager: until the swarm answers) before it returns. It knows
  /// three service managers: systemd, the lab's (a start file in /run), and SysV init.
  public static let applyScript = #"""
    set -eu
    STEP=$1 KIND=$2 ARG=$3 FORMAT=$4 INSTALL=$5 DAEMON=$6 FSTAB=$7 MODE=$8 STOP=$9 ROLE=${10} DROPIN=${11}
    BASE=\#(DockerStorageLayout.base) STORE=\#(DockerStorageLayout.store) IMAGE=\#(DockerStorageLayout.loopfile)
    fail() { echo "error=$*"; exit 3; }
    is_systemd() { [ -d /run/systemd/system ]; }
    is_lab() { [ -f /run/piswarm-lab/dockerd.start ]; }
    docker_running() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
    docker_stop() {
      if is_systemd; then
        systemctl stop docker.socket docker.service 2>/dev/null || true
        systemctl stop containerd.service 2>/dev/null || true
      elif is_lab; then
        pid=$(cat /run/docker.pid 2>/dev/null || true)
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
          kill -TERM "$pid"; i=0
          while kill -0 "$pid" 2>/dev/null; do i=$((i + 1)); [ $i -le 300 ] || fail "dockerd (pid $pid) did not stop within 30 s"; sleep 0.1; done
        fi
      elif [ -x /etc/init.d/docker ]; then
        /etc/init.d/docker stop >/dev/null 2>&1 || true
      fi
    }
    docker_start() {
      if is_systemd; then
        systemctl start containerd.service 2>/dev/null || true
        systemctl start docker.service || fail "dockerd did not start; see 'journalctl -u docker' on the node"
      elif is_lab; then
        setsid sh /run/piswarm-lab/dockerd.start </dev/null >/dev/null 2>&1 &
      elif [ -x /etc/init.d/docker ]; then
        /etc/init.d/docker start >/dev/null 2>&1 || fail "dockerd did not start; see /var/log/docker.log on the node"
      fi
      i=0
      until docker_running; do i=$((i + 1)); [ $i -le 600 ] || fail "dockerd does not answer 60 s after its start"; sleep 0.1; done
    }
    write() { # PATH BASE64: through a temporary file and a rename, only when it changes
      # A file that is itself a mount point (a bind mount, as in the lab, where the folder around
      # it is the host's) cannot be renamed over: its temporary file goes to the node's own /run.
      if mountpoint -q "$1" 2>/dev/null; then new=$(mktemp /run/piswarm-write.XXXXXX); else new=$(mktemp "$1.piswarm-XXXXXX"); fi
      printf '%s' "$2" | base64 -d > "$new"
      if cmp -s "$new" "$1"; then rm -f "$new"; return 0; fi
      sync "$new"
      if mountpoint -q "$1" 2>/dev/null; then cat "$new" > "$1"; rm -f "$new"; else chmod 0644 "$new"; mv -f "$new" "$1"; fi
    }
    on_store() { # TARGET: whether TARGET is on piswarm's storage (a folder may be a mount point of something else, as in the lab)
      if [ "$KIND" = tmpfs ]; then [ "$(stat -f -c %T "$1" 2>/dev/null)" = tmpfs ]
      else mountpoint -q "$STORE" && [ "$(stat -c %d "$STORE")" = "$(stat -c %d "$1" 2>/dev/null)" ]; fi
    }
    copy_into() { # SOURCE TARGET: what SOURCE holds, with owners, modes and links
      [ -d "$1" ] && cp -a "$1/." "$2/"
      return 0
    }

    # Checks first: nothing stops when one fails.
    if [ "$KIND" = device ] && { [ "$STEP" = migrate ] || [ "$STEP" = repair ]; }; then
      [ -b "$ARG" ] || fail "$ARG is not a block device on this node; check docker_storage in cluster.yml"
      where=$(findmnt -rn -o TARGET -S "$ARG" 2>/dev/null | head -n 1)
      [ -z "$where" ] || [ "$where" = "$STORE" ] || fail "$ARG is mounted at $where; unmount it or choose another device"
      type=$(blkid -o value -s TYPE "$ARG" 2>/dev/null || true)
      [ "$type" = ext4 ] || [ "$FORMAT" = 1 ] || fail "$ARG holds ${type:-no filesystem}, not ext4: run 'piswarm up --format' to format it (this erases it)"
    fi
    swarm=inactive
    if docker_running; then swarm=$(docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || echo inactive); fi
    stopped=0
    # A failure once dockerd is stopped must not leave the node without it; a lost connection
    # (SIGHUP, SIGPIPE at the next output) becomes a failure too, so that this runs. dockerd comes
    # back only on its own storage, mounted again if need be, never on what the root holds.
    trap '' HUP PIPE
    recover() {
      if [ "$KIND" != tmpfs ] && [ "$KIND" != root ] && [ -f "$BASE/storage.mode" ]; then
        mountpoint -q "$STORE" || mount "$STORE" 2>/dev/null || true
        for t in /var/lib/docker /var/lib/containerd; do on_store "$t" || mount "$t" 2>/dev/null || true; done
      fi
      if [ "$KIND" = root ] || [ ! -f "$BASE/storage.mode" ] || on_store /var/lib/docker; then
        docker_start >/dev/null 2>&1 || true
      else
        echo "error=dockerd left stopped: its storage is not mounted; run 'piswarm up' again" >&2
      fi
    }
    trap 'status=$?; if [ $status -ne 0 ] && [ $stopped = 1 ] && ! docker_running; then recover; fi' EXIT
    if [ "$STOP" = 1 ]; then docker_stop; stopped=1; fi

    if [ "$INSTALL" = 1 ]; then
      echo "step=install"
      policy=/usr/sbin/policy-rc.d made=0
      if [ ! -e $policy ]; then printf '#!/bin/sh\nexit 101\n' > $policy; chmod +x $policy; made=1; fi
      out=$(DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io 2>&1) || {
        out2=$(DEBIAN_FRONTEND=noninteractive apt-get update -q 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io 2>&1) || {
          [ $made = 0 ] || rm -f $policy
          fail "apt-get install docker.io failed: $(printf '%s' "$out2" | tail -n 1)"
        }
      }
      [ $made = 0 ] || rm -f $policy
      docker_stop; stopped=1
    fi

    case $STEP in
    migrate | repair)
      echo "step=storage"
      mkdir -p "$BASE"
      if [ "$KIND" = tmpfs ]; then
        for d in /var/lib/docker /var/lib/containerd; do
          mkdir -p "$d"
          on_store "$d" && continue
          mkdir -p "$BASE/incoming"
          mount -t tmpfs -o size="$ARG",mode=0711 piswarm-incoming "$BASE/incoming"
          copy_into "$d" "$BASE/incoming"
          mount -t tmpfs -o size="$ARG",mode=0711 tmpfs "$d"
          copy_into "$BASE/incoming" "$d"
          umount "$BASE/incoming"
        done
      else
        if [ "$KIND" = loopfile ] && [ ! -f "$IMAGE" ]; then
          rm -f "$IMAGE.new"
          # 0600 from the start: the file is a raw copy of /var/lib/docker (swarm CA, raft keys).
          (umask 077 && truncate -s "$ARG" "$IMAGE.new")
          chmod 600 "$IMAGE.new"
          mkfs.ext4 -q -F -m 0 -L piswarm-docker "$IMAGE.new" >/dev/null
          mv "$IMAGE.new" "$IMAGE"
        fi
        # Also one an older piswarm made world-readable.
        if [ "$KIND" = loopfile ]; then chmod 600 "$IMAGE"; fi
        if [ "$KIND" = device ] && [ "$FORMAT" = 1 ] && [ "$(blkid -o value -s TYPE "$ARG" 2>/dev/null || true)" != ext4 ]; then
          echo "step=format $ARG"
          mkfs.ext4 -q -F -L piswarm-docker "$ARG" >/dev/null
        fi
        mkdir -p "$STORE"
        if ! mountpoint -q "$STORE"; then
          if [ "$KIND" = loopfile ]; then mount -o loop,noatime "$IMAGE" "$STORE"; else mount -o noatime "$ARG" "$STORE"; fi
        fi
        for name in docker containerd; do
          target=/var/lib/$name
          mkdir -p "$target"
          on_store "$target" && continue
          if [ ! -d "$STORE/$name" ]; then
            rm -rf "$STORE/$name.new"; mkdir -m 0711 "$STORE/$name.new"
            copy_into "$target" "$STORE/$name.new"
            mv "$STORE/$name.new" "$STORE/$name"
          fi
          mount --bind "$STORE/$name" "$target"
        done
      fi ;;
    grow)
      # Offline: an online resize needs CAP_SYS_RESOURCE, which containers and some sandboxes lack.
      echo "step=storage"
      umount /var/lib/containerd 2>/dev/null || true
      umount /var/lib/docker 2>/dev/null || true
      umount "$STORE"
      truncate -s "$ARG" "$IMAGE"
      e2fsck -f -p "$IMAGE" >/dev/null 2>&1 || [ $? -le 1 ] || fail "e2fsck $IMAGE found errors it could not repair; run e2fsck -f $IMAGE on the node"
      resize2fs "$IMAGE" >/dev/null 2>&1 || fail "resize2fs $IMAGE failed"
      mount -o loop,noatime "$IMAGE" "$STORE"
      for name in docker containerd; do mount --bind "$STORE/$name" "/var/lib/$name"; done
      ;;
    resize)
      echo "step=storage"
      mount -o remount,size="$ARG" /var/lib/docker
      mount -o remount,size="$ARG" /var/lib/containerd ;;
    esac
    [ -z "$FSTAB" ] || write /etc/fstab "$FSTAB"
    if is_systemd; then
      dropin=\#(DockerStorageLayout.systemdDropIn)
      if [ -n "$DROPIN" ]; then mkdir -p "${dropin%/*}"; write "$dropin" "$DROPIN"; else rm -f "$dropin"; fi
      systemctl daemon-reload
    fi
    if [ "$KIND" = root ]; then rm -f "$BASE/storage.mode"; else
      mkdir -p "$BASE"; write "$BASE/storage.mode" "$(printf '%s\n' "$MODE" | base64 -w0)"; fi
    if [ -n "$DAEMON" ]; then mkdir -p /etc/docker; write /etc/docker/daemon.json "$DAEMON"; fi

    if [ $stopped = 1 ]; then
      echo "step=start"
      docker_start
      if [ "$swarm" = active ]; then
        i=0
        until [ "$(docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null)" = active ]; do
          i=$((i + 1)); [ $i -le 600 ] || fail "the node has not rejoined its swarm 60 s after dockerd started"; sleep 0.1; done
        if [ "$ROLE" = manager ]; then
          i=0
          until docker node ls -q >/dev/null 2>&1; do
            i=$((i + 1)); [ $i -le 900 ] || fail "the swarm has no leader 90 s after this manager's dockerd started"; sleep 0.2; done
        fi
      fi
    fi
    echo done=yes
    """#
}
