import ArgumentParser
import PiSwarmCore
import PiSwarmLab

struct LabVMList: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ls", abstract: "List a lab's VMs: running or not, QEMU's run state, PID, console log.",
    discussion: "Examples:\n  piswarm lab vm ls\n  piswarm lab vm ls --name lab2 --json")
  @OptionGroup var global: GlobalOptions
  @OptionGroup var options: LabOptions
  @Flag(help: "Print JSON on stdout.") var json = false

  func run() throws {
    try reporting {
      let lab = global.lab()
      let statuses = lab.vms(lab: options.name).map(lab.vmStatus)
      if json {
        Console.out(try Console.json(statuses))
        return
      }
      let rows = statuses.map {
        [$0.name, $0.mac, $0.running ? "on" : "off", $0.state ?? "-", $0.pid.map(String.init) ?? "-", $0.console]
      }
      Console.out(TextTable.render(header: ["VM", "MAC", "POWER", "QEMU", "PID", "CONSOLE"], rows: rows))
    }
  }
}
