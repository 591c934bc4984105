/// A plain text table: a header row and left-aligned columns two spaces apart. Cells are shown
/// with terminal controls escaped (`TerminalText.escaped`): a value from the LAN or a node can
/// neither break a row nor hide one.
public enum TextTable {
  public static func render(header: [String], rows: [[String]]) -> String {
    let rows = rows.map { $0.map(TerminalText.escaped) }
    var widths = header.map(\.count)
    for row in rows {
      for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
    }
    func line(_ cells: [String]) -> String {
      var out = ""
      for (index, cell) in cells.enumerated() {
        let last = index == cells.count - 1
        out += last ? cell : cell + String(repeating: " ", count: widths[index] - cell.count + 2)
      }
      return out
    }
    return ([line(header)] + rows.map(line)).joined(separator: "\n") + "\n"
  }
}
