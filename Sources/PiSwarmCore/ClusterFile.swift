import Yams

/// Reading `cluster.yml`: bytes in, a `Cluster` and every diagnostic out. Pure: no I/O.
public enum ClusterFile {
  public static let defaultPath = "cluster.yml"

  /// The result of decoding: the cluster when there are no errors, and all diagnostics.
  public struct Decoded: Sendable {
    public var cluster: Cluster?
    public var diagnostics: [Diagnostic]
  }

  /// Decodes raw file bytes, first checking that they are text at all.
  public static func decode(bytes: some Collection<UInt8>) -> Decoded {
    switch TextCheck.text(from: bytes) {
    case .failure(let diagnostic): return Decoded(cluster: nil, diagnostics: [diagnostic])
    case .success(let text): return decode(text: text)
    }
  }

  /// Decodes and validates cluster file text.
  public static func decode(text: String) -> Decoded {
    if text.allSatisfy({ $0.isWhitespace }) {
      return Decoded(
        cluster: nil,
        diagnostics: [
          Diagnostic(.error, at: .start, "the file is empty; run 'piswarm init' to write a starter cluster file")
        ])
    }
    let root: Yams.Node?
    do {
      root = try Yams.compose(yaml: text)
    } catch {
      return Decoded(cluster: nil, diagnostics: [YAMLErrors.diagnostic(for: error, in: text)])
    }
    guard let root else {
      return Decoded(
        cluster: nil,
        diagnostics: [
          Diagnostic(.error, at: .start, "the file holds only comments; run 'piswarm init' to write a starter cluster file")
        ])
    }
    var reader = ClusterReader()
    let cluster = reader.read(root)
    let diagnostics = reader.diagnostics.sortedByLocation()
    return Decoded(cluster: diagnostics.hasErrors ? nil : cluster, diagnostics: diagnostics)
  }
}
