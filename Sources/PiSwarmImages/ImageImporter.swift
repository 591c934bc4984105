import Foundation
import PiSwarmCore
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// Imports a Raspberry Pi OS style disk image into the image store. The file is read once, as a
/// stream (hashed as it is read, then through xz, gzip or zstd when compressed): the partition
/// table is parsed from its first sector, the boot and root partitions are copied out (zero blocks
/// left as holes), the boot partition's files are extracted with mtools, the root's release and
/// kernel read with debugfs.
/// Everything goes to `.import-NAME-PID` and is renamed into place at the very end.
public struct ImageImporter {
  public var store: ImageStore
  /// Called with (bytes of the source read, source size), at most ten times a second.
  public var progress: ((UInt64, UInt64) -> Void)?

  public init(store: ImageStore, progress: ((UInt64, UInt64) -> Void)? = nil) {
    self.store = store
    self.progress = progress
  }

  public func importImage(file: String, name: String) throws(PiSwarmError) -> ImportedImage {
    let source = Files.absolute(file)
    var info = stat()
    guard stat(source, &info) == 0 else {
      throw PiSwarmError(.notFound, "\(file) does not exist", advice: "give the path of a downloaded image file")
    }
    guard (info.st_mode & S_IFMT) == S_IFREG else {
      throw PiSwarmError(.invalidInput, "\(file) is not a regular file", advice: "give the path of an image file")
    }
    let sourceSize = UInt64(info.st_size)
    let temporary = try store.beginImport(name, verb: "import", mode: 0o755)
    var done = false
    defer { if !done { try? FileManager.default.removeItem(atPath: temporary) } }

    let compression = try Self.compression(of: source)
    let layout = try copyPartitions(
      source: source, sourceSize: sourceSize, compression: compression, fileName: file,
      bootFile: temporary + "/boot.fat", rootFile: temporary + "/root.ext4")
    try Self.checkExt4(temporary + "/root.ext4", name: file, partition: layout.root.number)
    try Self.extractBoot(temporary + "/boot.fat", into: temporary + "/boot", name: file, partition: layout.boot.number)
    unlink(temporary + "/boot.fat")
    let osRelease = try Self.osRelease(temporary + "/root.ext4")
    let modules = try Self.moduleVersions(temporary + "/root.ext4")
    let kernels = ((try? FileManager.default.contentsOfDirectory(atPath: temporary + "/boot")) ?? [])
      .filter { $0.lowercased().hasPrefix("kernel") && $0.lowercased().hasSuffix(".img") }.sorted()

    guard rename(temporary, store.folder(name)) == 0 else {
      throw PiSwarmError(
        .system, "cannot move the import into place at \(store.folder(name)): \(String(cString: strerror(errno)))")
    }
    done = true
    return ImportedImage(
      name: name, source: source, compression: compression, osRelease: osRelease ?? "unknown", kernels: kernels,
      modules: modules, imageSize: layout.imageSize, sourceSize: sourceSize, sha256: layout.sha256, importedAt: Date())
  }

  static func compression(of path: String) throws(PiSwarmError) -> ImageCompression {
    guard let handle = FileHandle(forReadingAtPath: path) else {
      throw PiSwarmError(.system, "cannot open \(path): \(String(cString: strerror(errno)))")
    }
    defer { try? handle.close() }
    let magic = (try? handle.read(upToCount: 8)) ?? Data()
    return ImageCompression.detect(Array(magic))
  }

  struct CopiedLayout {
    var boot: MBR.Partition
    var root: MBR.Partition
    var imageSize: UInt64
    /// Of the source file, as read for the copy.
    var sha256: String
  }

  /// One pass over the (decompressed) image: the first sector is parsed, then the bytes of the
  /// boot and root partitions go to their files. Reads to the end so that the decompressor checks
  /// its whole stream.
  func copyPartitions(
    source: String, sourceSize: UInt64, compression: ImageCompression, fileName: String, bootFile: String, rootFile: String
  ) throws(PiSwarmError) -> CopiedLayout {
    let stream = try ImageStream(path: source, compression: compression)
    var finished = false
    defer { if !finished { stream.finish(kill: true) } }
    let chunkSize = 4 << 20
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 4096)
    defer { buffer.deallocate() }

    var count = try stream.readFully(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<512]))
    let first = Array(buffer[0..<count])
    let layout = try MBR.layout(first, imageSize: compression.decompressor == nil ? sourceSize : nil, name: fileName)
    let targets = [(layout.boot, bootFile), (layout.root, rootFile)]
    var outputs: [Int32] = []
    defer { for fd in outputs { close(fd) } }
    for (_, path) in targets {
      let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
      guard fd >= 0 else { throw PiSwarmError(.system, "cannot create \(path): \(String(cString: strerror(errno)))") }
      outputs.append(fd)
    }
    var position = UInt64(count)
    var lastReport: Stopwatch?
    while true {
      count = try stream.readFully(into: buffer)
      if count == 0 { break }
      let chunkStart = position
      position += UInt64(count)
      for ((partition, path), fd) in zip(targets, outputs) {
        let from = max(chunkStart, partition.offset)
        let to = min(position, partition.end)
        guard from < to else { continue }
        try Self.writeSparse(
          UnsafeRawBufferPointer(rebasing: buffer[Int(from - chunkStart)..<Int(to - chunkStart)]), to: fd,
          at: from - partition.offset, path: path)
      }
      if let progress, lastReport.map({ $0.seconds >= 0.1 }) ?? true {
        lastReport = Stopwatch()
        progress(min(stream.sourcePosition, sourceSize), sourceSize)
      }
    }
    finished = true
    let (status, stderr) = stream.finish()
    guard status == 0 else {
      throw PiSwarmError(
        .invalidInput, "\(fileName) cannot be decompressed (\(compression.rawValue) exited with status \(status))",
        advice: "the download is damaged or incomplete; download it again", cause: stderr.isEmpty ? nil : stderr)
    }
    progress?(sourceSize, sourceSize)
    for (partition, _) in targets where position < partition.end {
      throw PiSwarmError(
        .invalidInput,
        "\(fileName) is truncated: it ends at byte \(position), inside partition \(partition.number) (which ends at byte \(partition.end))",
        advice: "download the image again")
    }
    for ((partition, path), fd) in zip(targets, outputs) where ftruncate(fd, off_t(partition.size)) != 0 || fsync(fd) != 0 {
      throw PiSwarmError(.system, "cannot write \(path): \(String(cString: strerror(errno)))")
    }
    return CopiedLayout(boot: layout.boot, root: layout.root, imageSize: position, sha256: stream.sourceDigest)
  }

  static let zeros = [UInt8](repeating: 0, count: 65536)

  /// Writes `bytes` at `offset`, leaving 64 KiB blocks of zeros as holes.
  static func writeSparse(_ bytes: UnsafeRawBufferPointer, to fd: Int32, at offset: UInt64, path: String) throws(PiSwarmError) {
    var index = 0
    while index < bytes.count {
      // Blocks aligned on the output file, so that holes stay aligned.
      let outputOffset = offset + UInt64(index)
      let block = min(bytes.count - index, 65536 - Int(outputOffset % 65536))
      guard let base = bytes.baseAddress?.advanced(by: index) else { return }
      let isZero = zeros.withUnsafeBytes { zero in zero.baseAddress.map { memcmp(base, $0, block) == 0 } ?? false }
      if !isZero {
        var written = 0
        while written < block {
          let n = pwrite(fd, base.advanced(by: written), block - written, off_t(outputOffset) + off_t(written))
          if n < 0 {
            if errno == EINTR { continue }
            throw PiSwarmError(.system, "cannot write \(path): \(String(cString: strerror(errno)))")
          }
          written += n
        }
      }
      index += block
    }
  }

  /// The ext4 superblock magic (0xEF53 at byte 1080).
  static func checkExt4(_ path: String, name: String, partition: Int) throws(PiSwarmError) {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    defer { if fd >= 0 { close(fd) } }
    var magic: [UInt8] = [0, 0]
    guard fd >= 0, pread(fd, &magic, 2, 1080) == 2, magic == [0x53, 0xEF] else {
      throw PiSwarmError(
        .invalidInput, "\(name): partition \(partition) (type 0x83) holds no ext4 filesystem",
        advice: "piswarm reads Raspberry Pi OS images, whose root is ext4")
    }
  }

  static func extractBoot(_ fat: String, into folder: String, name: String, partition: Int) throws(PiSwarmError) {
    try Files.makeDirectory(folder, mode: 0o755)
    var environment = ProcessInfo.processInfo.environment
    environment["MTOOLS_SKIP_CHECK"] = "1"
    let output = try Command("mcopy", ["-s", "-n", "-m", "-i", fat, "::/", folder + "/"], environment: environment).run()
    guard output.status == 0 else {
      throw PiSwarmError(
        .invalidInput, "\(name): cannot read the files of partition \(partition) (FAT)",
        advice: "the boot partition is damaged; download the image again",
        cause: output.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))
    }
    // TFTP serves these as the unprivileged dnsmasq user: world-readable.
    _ = try? Command("chmod", ["-R", "a+rX", folder]).run()
  }

  static func debugfs(_ filesystem: String, _ request: String) throws(PiSwarmError) -> Command.Output {
    try Command("debugfs", ["-R", request, filesystem]).run()
  }

  /// PRETTY_NAME from the root's /etc/os-release (a symlink to /usr/lib/os-release on Debian).
  static func osRelease(_ filesystem: String) throws(PiSwarmError) -> String? {
    for path in ["/etc/os-release", "/usr/lib/os-release"] {
      let output = try debugfs(filesystem, "cat \(path)")
      if output.status == 0, let name = OSRelease.prettyName(output.stdoutText) { return name }
    }
    return nil
  }

  /// The names under /lib/modules (or /usr/lib/modules): kernel versions.
  static func moduleVersions(_ filesystem: String) throws(PiSwarmError) -> [String] {
    for path in ["/lib/modules", "/usr/lib/modules"] {
      let output = try debugfs(filesystem, "ls -p \(path)")
      let names = output.stdoutText.split(separator: "\n").compactMap { line -> String? in
        let fields = line.split(separator: "/", omittingEmptySubsequences: false)
        guard fields.count >= 6, fields[2].hasPrefix("04") else { return nil }
        let name = String(fields[5])
        return name == "." || name == ".." || name.isEmpty ? nil : name
      }
      if !names.isEmpty { return names.sorted() }
    }
    return []
  }
}
