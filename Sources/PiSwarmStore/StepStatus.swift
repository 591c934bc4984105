/// How a journaled step ended, for the steps that end in one of these words. (`up` still writes
/// the list of the actions it took as a step's status; its planner will journal typed actions.)
public enum StepStatus: String, Codable, Sendable {
  case succeeded
  case failed
  case unchanged
}
