import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmImages
import PiSwarmStore

struct ImageCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "image",
    abstract: "Import, list and remove OS images for netbooted nodes.",
    discussion: """
      An image is a Raspberry Pi OS style disk image (.img, .img.xz, .img.gz, .img.zst). Importing
      keeps its boot partition's files (what TFTP serves) and its root filesystem (the base of
      every node root) in STATE/images/NAME/.

      Examples:
        piswarm image import 2024-11-19-raspios-bookworm-arm64-lite.img.xz --name bookworm
        piswarm image ls
        piswarm image rm bookworm
      """,
    subcommands: [ImageImport.self, ImageList.self, ImageRemove.self]
  )
}

extension ImageListing.Entry {
  init(_ record: ImageRecord, roots: [String]) {
    let format = ISO8601DateFormatter()
    self.init(
      name: record.name, osRelease: record.osRelease, kernels: record.kernels.split(separator: ",").map(String.init),
      modules: record.modules.split(separator: ",").map(String.init), imageSize: record.imageSize, sha256: record.sha256,
      source: record.source, importedAt: format.string(from: record.importedAt), roots: roots)
  }
}
