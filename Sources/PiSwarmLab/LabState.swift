import Foundation
import PiSwarmCore
import PiSwarmSystem

/// What a lab remembers about itself in `LAB/lab.json`.
public struct LabState: Codable, Sendable, Equatable {
  public var name: String
  public var index: Int
  public var nodeCount: Int
  public var managers: Int
  /// PIDs of each node's launcher (setsid → nsenter → unshare), by node name.
  public var launchers: [String: Int32]

  public func layout(stateDirectory: String) -> LabLayout {
    LabLayout(name: name, index: index, nodeCount: nodeCount, stateDirectory: stateDirectory)
  }

  public static func load(name: String, stateDirectory: String) -> LabState? {
    let path = LabLayout.directory(name: name, stateDirectory: stateDirectory) + "/lab.json"
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    return try? JSONDecoder().decode(LabState.self, from: data)
  }

  public func save(stateDirectory: String) throws(PiSwarmError) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    guard let data = try? encoder.encode(self) else { throw PiSwarmError(.system, "cannot encode the lab state") }
    try AtomicFile.write(data, to: layout(stateDirectory: stateDirectory).stateFile, mode: 0o600)
  }

  /// Every lab under the state directory.
  public static func all(stateDirectory: String) -> [LabState] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: stateDirectory + "/labs")) ?? []
    return names.sorted().compactMap { load(name: $0, stateDirectory: stateDirectory) }
  }
}
