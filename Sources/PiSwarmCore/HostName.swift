/// Rules for names: host names (RFC 1123 labels), interface names, user names.
public enum HostName {
  /// 1 to 63 of `a-z`, `0-9`, `-`, neither starting nor ending with `-`.
  public static func isValid(_ name: String) -> Bool {
    let scalars = name.unicodeScalars
    guard (1...63).contains(scalars.count), scalars.first != "-", scalars.last != "-" else { return false }
    return scalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
  }

  /// Why a name is not a host name, phrased as advice, or nil when it is one.
  public static func problem(with name: String) -> String? {
    if isValid(name) { return nil }
    if name.isEmpty { return "a host name cannot be empty" }
    if name.unicodeScalars.count > 63 { return "a host name has at most 63 characters" }
    if name.first == "-" || name.last == "-" { return "a host name cannot start or end with '-'" }
    if isValid(name.lowercased()) { return "host names are lowercase here; write \"\(name.lowercased())\"" }
    if name.contains("_") || name.contains(".") {
      let fixed = name.lowercased().replacingAll(["_", "."], with: "-")
      return "a host name may hold only lowercase letters, digits and '-' (no '_' or '.'); e.g. \"\(fixed)\""
    }
    return "a host name may hold only lowercase letters, digits and '-' (RFC 1123)"
  }

  /// One network interface name, as piswarm writes it into dnsmasq's `interface=` and Docker's
  /// `--advertise-addr`: 1 to 15 bytes (the kernel's IFNAMSIZ less the NUL), not `.` or `..`, of
  /// ASCII letters, digits, `.`, `_` and `-`. The kernel itself only refuses '/', ':' and white
  /// space, but dnsmasq reads `*` as a wildcard and `,` as a list, so those are refused too, with
  /// anything else unusual.
  public static func isInterfaceName(_ name: String) -> Bool {
    guard (1...15).contains(name.utf8.count), name != ".", name != ".." else { return false }
    return name.unicodeScalars.allSatisfy { $0.isASCIIAlphanumeric || $0 == "." || $0 == "_" || $0 == "-" }
  }

  /// A POSIX-ish user name.
  public static func isUserName(_ name: String) -> Bool {
    let scalars = name.unicodeScalars
    guard let first = scalars.first, (1...32).contains(scalars.count) else { return false }
    guard ("a"..."z").contains(first) || first == "_" else { return false }
    return scalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" }
  }
}

extension String {
  func replacingAll(_ characters: Set<Character>, with replacement: Character) -> String {
    String(map { characters.contains($0) ? replacement : $0 })
  }
}
