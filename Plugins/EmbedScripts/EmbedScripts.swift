import Foundation
import PackagePlugin

/// Embeds the target's `Scripts/*.sh` files (the shell that runs on nodes, kept as real files so
/// that shellcheck reads them) into one generated Swift file of string constants.
@main
struct EmbedScripts: BuildToolPlugin {
  func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
    guard let target = target as? SourceModuleTarget else { return [] }
    let folder = target.directoryURL.appending(path: "Scripts")
    let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sh") }.sorted()
    let scripts = names.map { folder.appending(path: $0) }
    let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedScripts.swift")
    return [
      .buildCommand(
        displayName: "Embedding \(names.count) shell scripts in \(target.name)",
        executable: try context.tool(named: "embed-scripts").url,
        arguments: [output.path] + scripts.map(\.path),
        inputFiles: scripts,
        outputFiles: [output])
    ]
  }
}
