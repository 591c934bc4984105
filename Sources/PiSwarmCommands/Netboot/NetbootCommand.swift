import ArgumentParser

struct NetbootCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "netboot",
    abstract: "Serve diskless nodes: dnsmasq (proxy or full DHCP, TFTP), per-node boot folders, NFS exports.",
    discussion: """
      Everything is rendered from the cluster file: the dnsmasq configuration (head.dnsmasq_conf),
      one TFTP folder per node under head.tftp_root (named by MAC, and by serial for Pi 4/5) with
      the node's own cmdline.txt and config.txt, and the NFS exports of the nodes' roots.

      Examples:
        piswarm netboot apply
        piswarm netboot apply --files-only --firmware /srv/firmware/raspios
        piswarm netboot status
      """,
    subcommands: [NetbootApplyCommand.self, NetbootStatusCommand.self, NetbootHookCommand.self]
  )
}
