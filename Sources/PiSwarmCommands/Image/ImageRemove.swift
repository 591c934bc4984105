import ArgumentParser
import PiSwarmCore
import PiSwarmImages
import PiSwarmStore
import PiSwarmSystem

struct ImageRemove: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rm",
    abstract: "Remove an imported image.",
    discussion: """
      Refuses while a node root is made from the image, unless --force: then the image goes and
      those roots stay as they are (overlay roots keep working until the head restarts, but
      cannot be mounted again).

      Example:
        piswarm image rm bookworm
      """,
    aliases: ["remove"]
  )

  @OptionGroup var global: GlobalOptions

  @Argument(help: "The image to remove.")
  var name: String

  @Flag(help: "Remove it even when node roots use it.")
  var force = false

  func run() throws {
    try reporting {
      try global.mutating(commandLine) { _ throws(PiSwarmError) in
        let state = try SQLiteStateStore(stateDirectory: global.stateDirectory)
        let store = ImageStore(stateDirectory: global.stateDirectory)
        guard try state.image(named: name) != nil || store.contains(name) else {
          let known = try state.images().map(\.name)
          throw PiSwarmError(
            .notFound, "no image named \(name)\(Suggestion.hint(for: name, in: known))", advice: "see 'piswarm image ls'")
        }
        // Current roots, and generations kept for a rollback.
        let users = Set(try state.roots(image: name).map(\.node) + (try state.generationUsers(image: name))).sorted()
        if !users.isEmpty && !force {
          throw PiSwarmError(
            .invalidInput, "image \(name) is used by the roots of \(users.joined(separator: ", "))",
            advice: "remove those roots first ('piswarm root rm NODE'), or pass --force to remove the image anyway")
        }
        try store.remove(name)
        try state.removeImage(named: name)
        Console.out("removed image \(name)\n")
      }
    }
  }
}
