import Testing

@testable import PiSwarmCore

/// No input may crash decoding: random bytes, random text and mutations of a valid file.
/// A crash is a trap that kills the test process, so simply running these is the check.
@Suite struct FuzzTests {
  struct Generator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
  }

  static let fragments = [
    ":", "- ", "\n", "  ", "\t", "[", "]", "{", "}", ",", "#", "&a ", "*a", "!!str ", "\"", "'", "|", ">", "?", "%",
    "name", "head", "nodes", "ip", "mac", "node[01-03]", "10.42.0.", "+", "b8:27:eb:", "loopfile:", "managers",
    "0", "99999999999999999999", "-", "\u{0}", "\u{FEFF}", "é", "🍓", "...", "---", "~", "null", "<<",
  ]

  func mutate(_ text: String, _ rng: inout Generator) -> String {
    var scalars = Array(text.unicodeScalars)
    for _ in 0..<Int.random(in: 1...6, using: &rng) {
      let position = scalars.isEmpty ? 0 : Int.random(in: 0..<scalars.count, using: &rng)
      switch Int.random(in: 0..<5, using: &rng) {
      case 0 where !scalars.isEmpty:
        scalars.remove(at: position)
      case 1:
        let fragment = Self.fragments.randomElement(using: &rng) ?? ""
        scalars.insert(contentsOf: fragment.unicodeScalars, at: position)
      case 2 where !scalars.isEmpty:
        let end = min(scalars.count, position + Int.random(in: 1...40, using: &rng))
        scalars.removeSubrange(position..<end)
      case 3 where !scalars.isEmpty:
        let other = Int.random(in: 0..<scalars.count, using: &rng)
        scalars.swapAt(position, other)
      default:
        let end = min(scalars.count, position + Int.random(in: 1...60, using: &rng))
        scalars.insert(contentsOf: scalars[position..<end], at: min(scalars.count, end))
      }
    }
    var out = String.UnicodeScalarView()
    out.append(contentsOf: scalars)
    return String(out)
  }

  /// Every character that splits a line of the files these values are written into (exports,
  /// dnsmasq's configuration, cmdline.txt, fstab, an SSH configuration), at every place of every
  /// such field, is an error located at that field; none reaches a decoded cluster.
  @Test func separatorsNeverReachARenderedFile() {
    let separators = [
      "\t", "\n", "\r", "\u{0}", "\u{1b}", "\u{7f}", "\u{85}", "\u{9b}", "\"", "\\", " ", ",", "#", "*", "\u{a0}", "\u{2028}",
    ]
    let fields: [(old: String, template: (String) -> String, location: String, splitsOnSpace: Bool)] = [
      ("  lan: dhcp\n", { "  lan: dhcp\n  nfs_root: \($0)\n" }, "7:13", true),
      ("  lan: dhcp\n", { "  lan: dhcp\n  tftp_root: \($0)\n" }, "7:14", true),
      ("  lan: dhcp\n", { "  lan: dhcp\n  dnsmasq_conf: \($0)\n" }, "7:17", true),
      ("  interface: eth1\n", { "  interface: \($0)\n" }, "4:14", true),
      ("  docker_storage: loopfile:8G\n", { "  docker_storage: \($0)\n" }, "13:19", true),
      ("  key: ~/.ssh/id_ed25519\n", { "  key: \($0)\n" }, "10:8", false),
    ]
    let values: [(String, String)] = [
      ("/srv/nfs", "nfs_root"), ("/srv/tftp", "tftp_root"), ("/etc/dnsmasq.d/p.conf", "dnsmasq_conf"), ("eth1", "interface"),
      ("device:/dev/sda1", "device"), ("~/.ssh/id", "key"),
    ]
    for (index, field) in fields.enumerated() {
      let clean = values[index].0
      for separator in separators where field.splitsOnSpace || ![" ", ",", "#", "*", "\u{a0}"].contains(separator) {
        for position in [1, clean.count / 2, clean.count] {
          var value = clean
          value.insert(contentsOf: separator, at: value.index(value.startIndex, offsetBy: position))
          let text = replacing(field.old, with: field.template(YAMLText.quoted(value)))
          let decoded = ClusterFile.decode(text: text)
          #expect(decoded.cluster == nil, "\(values[index].1) \(value.debugDescription) passed")
          #expect(
            decoded.diagnostics.errors.contains { $0.location.description == field.location },
            "\(values[index].1) \(value.debugDescription): \(decoded.diagnostics)")
        }
      }
    }
  }

  @Test func mutatedValidFilesNeverCrash() {
    var rng = Generator(state: 0x5EED)
    var errors = 0
    for _ in 0..<3000 {
      let decoded = ClusterFile.decode(text: mutate(baseFile, &rng))
      if decoded.cluster == nil {
        errors += 1
        #expect(decoded.diagnostics.hasErrors, "no cluster but no error")
      }
      for diagnostic in decoded.diagnostics {
        #expect(diagnostic.location.line >= 1 && diagnostic.location.column >= 1)
        #expect(!diagnostic.message.isEmpty)
      }
    }
    #expect(errors > 100)
  }

  @Test func randomBytesNeverCrash() {
    var rng = Generator(state: 42)
    for _ in 0..<2000 {
      let count = Int.random(in: 0...300, using: &rng)
      let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
      let decoded = ClusterFile.decode(bytes: bytes)
      if decoded.cluster == nil { #expect(decoded.diagnostics.hasErrors) }
    }
  }

  @Test func randomFragmentsNeverCrash() {
    var rng = Generator(state: 7)
    for _ in 0..<2000 {
      let text = (0..<Int.random(in: 0...80, using: &rng)).map { _ in Self.fragments.randomElement(using: &rng) ?? "" }.joined()
      let decoded = ClusterFile.decode(text: text)
      if decoded.cluster == nil { #expect(decoded.diagnostics.hasErrors) }
    }
  }

  @Test func deepNestingIsAnErrorNotACrash() {
    let decoded = ClusterFile.decode(text: String(repeating: "[", count: 100_000))
    #expect(decoded.diagnostics.hasErrors)
    let deepMap = String(repeating: "{a: ", count: 5000)
    #expect(ClusterFile.decode(text: deepMap).diagnostics.hasErrors)
  }

  @Test func editingMutatedFilesNeverCrashes() {
    var rng = Generator(state: 99)
    let spec = ClusterFileEditor.NodeSpec(name: "node99", ip: IPv4Address("10.42.0.99")!)
    for _ in 0..<1000 {
      let text = mutate(baseFile, &rng)
      _ = try? ClusterFileEditor.adding(spec, to: text)
      _ = try? ClusterFileEditor.removing(node: "node02", from: text)
    }
  }
}
