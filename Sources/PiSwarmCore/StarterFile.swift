/// The commented `cluster.yml` that `piswarm init` writes.
public enum StarterFile {
  public struct Options: Sendable, Equatable {
    public var name: String
    public var interface: String
    public var address: IPv4Interface
    public var lan: LANMode
    public var sshUser: String
    public var sshKey: String

    public init(name: String, interface: String, address: IPv4Interface, lan: LANMode, sshUser: String, sshKey: String) {
      self.name = name
      self.interface = interface
      self.address = address
      self.lan = lan
      self.sshUser = sshUser
      self.sshKey = sshKey
    }
  }

  public static func render(_ options: Options) -> String {
    let first = options.address.address.advanced(by: 10) ?? options.address.address
    let firstNode = IPv4Interface(address: first, prefixLength: options.address.prefixLength)
    let example = options.address.isHost(first) ? first : options.address.address
    let rangeStart = example.advanced(by: 1) ?? example
    return """
      # piswarm cluster file, schema version 1. Reference: docs/cluster-file.md
      # Check it with 'piswarm validate'; add nodes with 'piswarm node add NAME --ip ADDRESS'.
      version: 1

      # The cluster's name: lowercase letters, digits and '-'.
      name: \(options.name)

      # This machine, the head, on the cluster network.
      head:
        interface: \(options.interface)          # the interface facing the nodes
        address: \(options.address)   # its address with prefix; nodes live in this subnet
        # proxy: a router on this network hands out addresses, piswarm only adds boot info.
        # dhcp:  piswarm is the DHCP server (a private cluster network), one lease per node.
        # none:  piswarm serves no DHCP at all.
        lan: \(options.lan.rawValue)
        # dhcp_range: \(rangeStart)-\(rangeStart.advanced(by: 49) ?? rangeStart)   # only with lan: dhcp
        tftp_root: \(Head.defaultTFTPRoot)       # boot files, one folder per node
        nfs_root: \(Head.defaultNFSRoot)         # root filesystems, one per node
        dnsmasq_conf: \(Head.defaultDnsmasqConf)

      # How piswarm logs in to the nodes: key only, never a password.
      ssh:
        user: \(YAMLText.scalar(options.sshUser))
        key: \(YAMLText.scalar(options.sshKey))

      # What every node gets unless its own entry says otherwise.
      defaults:
        boot: netboot                 # netboot (diskless), sd (its own card) or preinstalled
        # Docker's storage. overlay2 cannot sit on an NFS root, so netboot nodes default to
        # loopfile:16G (an ext4 image file on the share). Also: root, device:/dev/…, tmpfs:SIZE.
        # docker_storage: loopfile:16G
        power: none                   # or { driver: command, on: "…", off: "…" }

      swarm:
        # managers: 3                 # a count (the first N nodes) or a list of names. Default: 3 with
                                      # three or more nodes, else 1. 3 managers survive one failure.
        advertise: eth0               # the nodes' interface for swarm traffic
        # labels: { cluster: \(options.name) }

      # The head's pull-through cache of Docker Hub (port 5001) and private registry (port 5000),
      # over TLS from a cluster CA every node trusts. See docs/registry.md.
      # registry: true

      # The nodes. A range makes many at once:
      #   - name: node[02-10]
      #     ip: \(rangeStart)+          # node02 gets \(rangeStart), node03 the next, …
      #     mac: b8:27:eb:00:00:02+
      # A single node:
      #   - name: node01
      #     ip: \(firstNode.address)
      #     mac: b8:27:eb:12:34:56
      #     model: pi4
      #     labels: { rack: a }
      nodes: []

      """
  }
}
