import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmImages
import PiSwarmStore

struct ImageCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "image",
    abstract: "Import, capture, list and remove OS images for netbooted nodes and cards.",
    discussion: """
      An image is a Raspberry Pi OS style disk image (.img, .img.xz, .img.gz, .img.zst). Importing
      keeps its boot partition's files (what TFTP serves) and its root filesystem (the base of
      every node root) in STATE/images/NAME/.

      Examples:
        piswarm image import 2024-11-19-raspios-bookworm-arm64-lite.img.xz --name bookworm
        piswarm image capture node07 --name golden
        piswarm image ls
        piswarm image rm bookworm
      """,
    subcommands: [ImageImport.self, ImageCaptureCommand.self, ImageList.self, ImageRemove.self]
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

extension ImageRecord {
  /// The state store's row for an imported (or captured) image.
  init(_ image: ImportedImage) {
    self.init(
      name: image.name, source: image.source, compression: image.compression.rawValue, osRelease: image.osRelease,
      kernels: image.kernels, modules: image.modules, imageSize: Int64(image.imageSize), sourceSize: Int64(image.sourceSize),
      sha256: image.sha256, importedAt: image.importedAt)
  }
}
