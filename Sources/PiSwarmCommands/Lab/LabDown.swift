import ArgumentParser
import PiSwarmCore
import PiSwarmLab

struct LabDown: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "down",
    abstract: "Stop a lab and remove everything it made.",
    discussion: """
      Stops every node (dockerd first, cleanly), then removes the namespaces, links, cgroups,
      pinned host keys and files of the lab. Also cleans up after an 'up' that crashed half-way.

      Example:
        piswarm lab down --name lab
      """
  )

  @OptionGroup var global: GlobalOptions
  @OptionGroup var options: LabOptions

  func run() throws {
    try reporting {
      try global.mutating(commandLine) { _ throws(PiSwarmError) in try global.lab().down(name: options.name) }
      // The docker context 'piswarm up' wrote for the lab's cluster goes with it.
      DockerContextFiles.remove(cluster: LabFiles.clusterName(options.name))
      Console.out("lab \(options.name) removed\n")
    }
  }
}
