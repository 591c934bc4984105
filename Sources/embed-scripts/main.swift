// Writes a Swift file holding each given shell script as a `RemoteScript` constant, named after
// the file in lower camel case (`engine-apply.sh` → `engineApply`). Run by the EmbedScripts
// build plugin: embed-scripts OUTPUT SCRIPT...
import Foundation

func constantName(_ file: String) -> String {
  let parts = file.replacingOccurrences(of: ".sh", with: "").split(whereSeparator: { !$0.isLetter && !$0.isNumber })
  guard let first = parts.first else { return "script" }
  return first.lowercased() + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst().lowercased() }.joined()
}

/// As many `#` as it takes for nothing in the text to end the raw string (`"""#`) or to start
/// an escape in it (`\#`).
func delimiter(for text: String) -> String {
  var hashes = "#"
  while text.contains("\"\"\"" + hashes) || text.contains("\\" + hashes) { hashes += "#" }
  return hashes
}

let arguments = CommandLine.arguments.dropFirst()
guard let output = arguments.first else {
  FileHandle.standardError.write(Data("usage: embed-scripts OUTPUT SCRIPT...\n".utf8))
  exit(64)
}
var swift = "// Generated at build time by the EmbedScripts plugin from Scripts/*.sh. Edit those files.\n\n"
swift += "extension RemoteScript {\n"
for path in arguments.dropFirst() {
  guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
    FileHandle.standardError.write(Data("embed-scripts: cannot read \(path)\n".utf8))
    exit(1)
  }
  let file = URL(fileURLWithPath: path).lastPathComponent
  let hashes = delimiter(for: text)
  swift += "  /// Scripts/\(file)\n"
  swift += "  public static let \(constantName(file)) = RemoteScript(\n"
  swift += "    name: \"\(file)\",\n"
  // A multi-line literal drops the newline before its closing delimiter: one more keeps the
  // file's own last newline.
  swift += "    text: \(hashes)\"\"\"\n\(text)\n\"\"\"\(hashes))\n"
}
swift += "}\n"
do {
  try swift.write(toFile: output, atomically: true, encoding: .utf8)
} catch {
  FileHandle.standardError.write(Data("embed-scripts: cannot write \(output): \(error)\n".utf8))
  exit(1)
}
