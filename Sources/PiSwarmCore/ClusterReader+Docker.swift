import Yams

/// The `docker:` section: registry mirrors, log rotation.
extension ClusterReader {
  mutating func docker(_ entry: Entry?) -> DockerSettings {
    var settings = DockerSettings()
    guard let entry, let fields = mapping(entry.value, "docker", keys: Self.dockerKeys) else { return settings }
    if let mirrors = fields["registry_mirrors"] {
      if let list = mirrors.value.sequence {
        for item in list {
          guard let url = text(item, "a registry mirror") else { continue }
          if url == "head" {
            headMirror = item
          } else if Self.isMirrorURL(url) {
            settings.registryMirrors.append(url)
          } else {
            error(
              item,
              "registry mirror \"\(url)\" must be an http:// or https:// URL without spaces, e.g. https://mirror.example:5000, "
                + "or head (the head's own cache)")
          }
        }
      } else if !isNull(mirrors.value) {
        error(mirrors.value, "docker.registry_mirrors must be a list of URLs, e.g. [https://mirror.example:5000]")
      }
    }
    if let size = fields["log_max_size"], let raw = text(size.value, "docker.log_max_size") {
      if Self.isLogSize(raw) {
        settings.logMaxSize = raw
      } else {
        error(size.value, "docker.log_max_size \"\(raw)\" must be a whole number with k, m or g, e.g. 10m")
      }
    }
    if let files = fields["log_max_files"], let raw = text(files.value, "docker.log_max_files") {
      if let count = Int(raw), (1...100).contains(count) {
        settings.logMaxFiles = count
      } else {
        error(files.value, "docker.log_max_files \"\(raw)\" must be a whole number from 1 to 100, e.g. 3")
      }
    }
    return settings
  }

  static func isMirrorURL(_ url: String) -> Bool {
    (url.hasPrefix("https://") || url.hasPrefix("http://")) && url.count > 8 && url.count < 512
      && !url.unicodeScalars.contains { $0.value <= 0x20 || $0 == "\"" || $0 == "\\" || $0.value == 0x7f }
  }

  static func isLogSize(_ text: String) -> Bool {
    guard let unit = text.last, "kmg".contains(unit) else { return false }
    let digits = text.dropLast()
    return !digits.isEmpty && digits.count < 10 && digits.allSatisfy(\.isASCIIDigitCharacter) && Int(digits) != 0
  }
}
