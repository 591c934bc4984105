import ArgumentParser
import PiSwarmCore

/// `--only STEP,…` of `up` and `plan`: a narrower run, the same plan filtered.
struct RunStepOptions: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "Only these steps, comma-separated: \(RunAction.steps.joined(separator: ", ")) (refusals are always shown).",
      valueName: "steps"))
  var only: String?

  var steps: Set<String>? {
    only.map { Set($0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }) }
  }

  func validate() throws {
    guard let steps else { return }
    let unknown = steps.subtracting(RunAction.steps).sorted()
    guard unknown.isEmpty, !steps.isEmpty else {
      throw ValidationError(
        "--only \(only ?? ""): \(unknown.isEmpty ? "name a step" : "no step \(unknown.joined(separator: ", "))"); "
          + "the steps are \(RunAction.steps.joined(separator: ", "))")
    }
  }

  /// `plan` narrowed to the steps asked for; the whole plan without --only.
  func apply(_ plan: RunPlan) -> RunPlan { steps.map { plan.only($0) } ?? plan }
}
