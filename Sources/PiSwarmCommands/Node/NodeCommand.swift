import ArgumentParser

struct NodeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "node",
    abstract: "List, add and remove nodes in the cluster file.",
    discussion: """
      Adding and removing edit only the node's own lines: comments and layout elsewhere in the
      file are kept as they are.

      Examples:
        piswarm node ls
        piswarm node add node04 --ip 192.168.50.14 --mac b8:27:eb:00:00:04 --label rack=a
        piswarm node rm node04
      """,
    subcommands: [NodeList.self, NodeAdd.self, NodeRemove.self]
  )
}
