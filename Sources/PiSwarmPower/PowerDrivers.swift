import Dispatch
import PiSwarmCore
import Synchronization

/// The drivers by name: the one place that maps `power.driver` in cluster.yml to code. Each
/// name has its row of keys in `PowerDriverKeys` (PiSwarmCore).
public enum PowerDrivers {
  public static let all: [any PowerDriver] = [
    ShellPowerDriver.command, ShellPowerDriver.clusterHAT, ShellPowerDriver.uhubctl, LabPowerDriver(),
  ]

  /// The driver named `name`; nil for `none` and names no driver has.
  public static func driver(named name: String) -> (any PowerDriver)? { all.first { $0.name == name } }

  /// Runs `verb` for `node` through its driver, to its end, on the calling thread (a FanOut
  /// worker): `uncontrolled` for `power: none`.
  public static func run(_ verb: PowerVerb, node: Node, context: PowerContext) -> Result<PowerState, PiSwarmError> {
    let config = node.power
    if config.driver == PowerConfig.none.driver { return .success(.uncontrolled) }
    guard let driver = driver(named: config.driver) else {
      return .failure(
        PiSwarmError(
          .invalidInput, "node \(node.name): no power driver \"\(config.driver)\" in this piswarm",
          advice: "drivers: \(all.map(\.name).joined(separator: ", "))"))
    }
    return OnThisThread.run { () async -> Result<PowerState, PiSwarmError> in
      do throws(PiSwarmError) {
        return .success(try await driver.run(verb, node: node, config: config, context: context))
      } catch {
        return .failure(error)
      }
    }
  }
}

/// Runs an async call to its end on the calling thread. Drivers block on processes; run on the
/// cooperative pool (two threads on a small head) they would switch nodes two at a time, so each
/// FanOut thread runs its own driver call, every job of it, as a task executor of its own.
enum OnThisThread {
  static func run(_ body: @escaping @Sendable () async -> Result<PowerState, PiSwarmError>) -> Result<PowerState, PiSwarmError> {
    let executor = ThreadTaskExecutor()
    let result = Mutex<Result<PowerState, PiSwarmError>?>(nil)
    Task(executorPreference: executor) {
      let value = await body()
      result.withLock { $0 = value }
      executor.stop()
    }
    executor.runUntilStopped()
    return result.withLock { $0 } ?? .failure(PiSwarmError(.system, "the power driver ended without an answer"))
  }
}

/// A task executor whose jobs run on the thread that calls `runUntilStopped`.
final class ThreadTaskExecutor: TaskExecutor, Sendable {
  private let state = Mutex<(jobs: [UnownedJob], stopped: Bool)>(([], false))
  private let signal = DispatchSemaphore(value: 0)

  func enqueue(_ job: consuming ExecutorJob) {
    let job = UnownedJob(job)
    state.withLock { $0.jobs.append(job) }
    signal.signal()
  }

  func stop() {
    state.withLock { $0.stopped = true }
    signal.signal()
  }

  func runUntilStopped() {
    while true {
      signal.wait()
      let (jobs, stopped) = state.withLock { state in
        defer { state.jobs = [] }
        return (state.jobs, state.stopped)
      }
      for job in jobs { job.runSynchronously(on: asUnownedTaskExecutor()) }
      if stopped { return }
    }
  }
}
