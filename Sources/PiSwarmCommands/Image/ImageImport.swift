import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmImages
import PiSwarmStore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

struct ImageImport: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "import",
    abstract: "Import a Raspberry Pi OS style disk image (.img, .img.xz, .img.gz, .img.zst).",
    discussion: """
      The image is read once, as a stream: its MBR partition table is read, the FAT boot
      partition's files go to STATE/images/NAME/boot/ and the ext4 root partition to
      STATE/images/NAME/root.ext4. Nothing appears under NAME until the import is complete.
      Progress goes to stderr when it is a terminal.

      Examples:
        piswarm image import 2024-11-19-raspios-bookworm-arm64-lite.img.xz
        piswarm image import raspios.img --name bookworm --json
      """
  )

  @OptionGroup var global: GlobalOptions

  @Argument(help: "The image file.")
  var file: String

  @Option(help: "The image's name (default: the file name without .img and the compression suffix).")
  var name: String?

  @Flag(help: "Print JSON on stdout.")
  var json = false

  func validate() throws {
    if let name, let problem = ImageName.problem(with: name) {
      throw ValidationError("\"\(name)\" cannot name an image: \(problem)")
    }
  }

  func run() throws {
    try reporting {
      let imageName = name ?? ImageName.defaultName(forFile: file)
      let imported = try global.mutating(commandLine) { (_) throws(PiSwarmError) -> ImportedImage in
        let store = ImageStore(stateDirectory: global.stateDirectory)
        let state = try SQLiteStateStore(stateDirectory: global.stateDirectory)
        if try state.image(named: imageName) != nil {
          throw PiSwarmError(
            .exists, "an image named \(imageName) exists already",
            advice: "remove it first ('piswarm image rm \(imageName)') or import under another name with --name")
        }
        let label = "importing " + (file.split(separator: "/").last.map(String.init) ?? file)
        let terminal = isatty(2) == 1
        let importer = ImageImporter(
          store: store,
          progress: terminal
            ? { done, total in
              Console.errRaw(("\r" + ProgressLine.render(label: label, done: done, total: total)))
            }
            : nil)
        let imported: ImportedImage
        do throws(PiSwarmError) {
          imported = try importer.importImage(file: file, name: imageName)
          if terminal { Console.errRaw("\n") }
        } catch {
          if terminal { Console.errRaw("\n") }
          throw error
        }
        do throws(PiSwarmError) {
          try state.addImage(ImageRecord(imported))
        } catch {
          try? store.remove(imported.name)
          throw error
        }
        return imported
      }
      if json {
        Console.out(try Console.json(imported))
      } else {
        Console.out(
          "imported \(imported.name): \(imported.osRelease), "
            + "kernel \(imported.modules.isEmpty ? "unknown (no /lib/modules)" : imported.modules.joined(separator: ", ")), "
            + "\(ProgressLine.mebibytes(imported.imageSize)), sha256 \(imported.sha256)\n")
      }
    }
  }
}
