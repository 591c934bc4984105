import Foundation
import PiSwarmCore
import PiSwarmSystem

/// Bootloader updates for Pi 4/5 nodes with `eeprom:` settings: the user's `pieeprom-*.bin`
/// with the settings written in (`pieeprom.upd`) and its signature (`pieeprom.sig`: sha256 and a
/// time stamp), published world-readable beside the TFTP root in `dirname(tftp_root)/eeprom/ID/`
/// (ID: the first 16 hex digits of the .upd's sha256). A node's folders link there until the
/// node reports the settings; the bootloader's self-update (ENABLE_SELF_UPDATE, on by default)
/// flashes them at its next network boot.
public enum EEPROMPublisher {
  /// The names the bootloader asks its TFTP folder for.
  public static let files = ["pieeprom.sig", "pieeprom.upd"]

  public static func root(forTFTPRoot tftpRoot: String) -> String {
    let parent = URL(fileURLWithPath: tftpRoot).deletingLastPathComponent().path
    return (parent == "/" ? "" : parent) + "/eeprom"
  }

  /// A bootloader update ready to be written: its folder and the .upd's bytes.
  public struct Update: Sendable, Hashable {
    public var folder: String
    public var image: [UInt8]
  }

  /// The update for `config` on a board of `family`, to be published under `root`; nothing is
  /// written (an error leaves every file as it was).
  public static func prepare(
    _ config: EEPROMConfig, family: EEPROMConfig.Family, root: String
  ) throws(PiSwarmError) -> Update {
    guard let path = config.images[family] else {
      throw PiSwarmError(
        .invalidInput, "no bootloader image for \(family.rawValue)", advice: "set eeprom.\(family.rawValue) in cluster.yml")
    }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw PiSwarmError(
        .notFound, "cannot read the bootloader image \(path) (eeprom.\(family.rawValue))",
        advice: "download a pieeprom-*.bin for \(family.rawValue) from Raspberry Pi's rpi-eeprom releases to that path")
    }
    let image: BootloaderImage
    do {
      image = try BootloaderImage(Array(data)).replacingBootConfig(config.bootConf)
    } catch {
      var failure = error
      failure.message = "\(path): \(error.message)"
      throw failure
    }
    return Update(folder: root + "/" + String(image.sha256.prefix(16)), image: image.bytes)
  }

  /// Writes `update` once: an update already published keeps its time stamp.
  /// `dryRun`: writes nothing and returns the changes it would make.
  public static func write(_ update: Update, now: Date = Date(), dryRun: Bool = false) throws(PiSwarmError) -> [FileChange] {
    let sig = update.folder + "/pieeprom.sig"
    let upd = update.folder + "/pieeprom.upd"
    // Its content is in its name (the .upd's hash): only a missing file is written.
    guard !Files.exists(sig) || !Files.exists(upd) else { return [] }
    if dryRun { return [FileChange(upd, .created), FileChange(sig, .created)] }
    try Files.makeDirectory((update.folder as NSString).deletingLastPathComponent, mode: 0o755)
    try Files.makeDirectory(update.folder, mode: 0o755)
    _ = try AtomicFile.write(Data(update.image), to: upd, mode: 0o644)
    // The signature last: its presence says the update is whole.
    _ = try AtomicFile.write(
      BootloaderImage.signature(update.image, timestamp: Int(now.timeIntervalSince1970)), to: sig, mode: 0o644)
    return [FileChange(upd, .created), FileChange(sig, .created)]
  }

  /// Removes published updates no node links to any more (only folders named as piswarm names them).
  public static func prune(root: String, keep: Set<String>, dryRun: Bool = false) -> [FileChange] {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: root) else { return [] }
    var changes: [FileChange] = []
    for name in names.sorted()
    where !keep.contains(root + "/" + name) && name.count == 16
      && name.allSatisfy(\.isHexDigit)
    {
      if dryRun {
        changes.append(FileChange(root + "/" + name, .removed))
        continue
      }
      for file in files { unlink(root + "/" + name + "/" + file) }
      if rmdir(root + "/" + name) == 0 { changes.append(FileChange(root + "/" + name, .removed)) }
    }
    return changes
  }
}
