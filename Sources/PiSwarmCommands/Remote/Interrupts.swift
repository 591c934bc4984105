import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmSSH
import PiSwarmSystem
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Ctrl-C (and SIGTERM): work not yet started is skipped, the step under way finishes (or is
/// undone by its own error path), and the command exits 130 (143 for SIGTERM) with nothing
/// half-written. While nodes are being reached our ssh processes are also ended by PID.
enum Interrupts {
  nonisolated(unsafe) static var sources: [DispatchSourceSignal] = []  // only touched on the main thread, at start-up
  /// The signal that interrupted the run, 0 while none did.
  static let received = Atomic<Int32>(0)

  /// `onInterrupt` runs on the signal's queue after our children were signalled: close the
  /// masters there, since a multiplexed ssh client waits for its session to end despite SIGTERM.
  /// With `signalChildren` false, running children (a copy, a mount) are left to finish: the
  /// command checks `Cancellation` between its steps.
  static func install(signalChildren: Bool = true, onInterrupt: @escaping @Sendable () -> Void = {}) {
    guard sources.isEmpty else { return }
    if !signalChildren { ChildProcess.isolateChildren() }
    for signalNumber in [SIGINT, SIGTERM] {
      signal(signalNumber, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
      source.setEventHandler {
        _ = received.compareExchange(expected: 0, desired: signalNumber, ordering: .relaxed)
        Cancellation.cancel()
        if signalChildren { ChildProcess.Children.signalAll(SIGTERM) }
        onInterrupt()
      }
      source.resume()
      sources.append(source)
    }
  }

  /// The exit code of an interrupted run: 128 + the signal.
  static var exitCode: ExitCode {
    let signalNumber = received.load(ordering: .relaxed)
    return ExitCode(128 + (signalNumber == 0 ? SIGINT : signalNumber))
  }

  /// After the fan-out: if it was interrupted, closes the masters and exits 130 (143).
  static func finish(_ transport: SSHTransport, _ nodes: [Node]) throws {
    guard Cancellation.isCancelled else { return }
    transport.closeMasters(nodes)
    Console.err("interrupted: no command is left running on piswarm's side")
    throw exitCode
  }

  /// After a step of a command that changes the head: if it was interrupted, exits 130 (143).
  static func finish(_ what: String) throws {
    guard Cancellation.isCancelled else { return }
    Console.err("interrupted: \(what); run the command again to finish")
    throw exitCode
  }
}
