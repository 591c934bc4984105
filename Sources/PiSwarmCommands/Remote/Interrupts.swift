import ArgumentParser
import Foundation
import PiSwarmCore
import PiSwarmSSH
import PiSwarmSystem

#if canImport(Glibc)
  import Glibc
#endif

/// Ctrl-C (and SIGTERM) while nodes are being reached: work not yet started is skipped and our
/// ssh processes are ended by PID; the command then closes the masters and exits 130.
enum Interrupts {
  nonisolated(unsafe) static var sources: [DispatchSourceSignal] = []  // only touched on the main thread, at start-up

  /// `onInterrupt` runs on the signal's queue after our children were signalled: close the
  /// masters there, since a multiplexed ssh client waits for its session to end despite SIGTERM.
  static func install(onInterrupt: @escaping @Sendable () -> Void) {
    guard sources.isEmpty else { return }
    for signalNumber in [SIGINT, SIGTERM] {
      signal(signalNumber, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
      source.setEventHandler {
        Cancellation.cancel()
        Command.Children.signalAll(SIGTERM)
        onInterrupt()
      }
      source.resume()
      sources.append(source)
    }
  }

  /// After the fan-out: if it was interrupted, closes the masters and exits 130.
  static func finish(_ transport: SSHTransport, _ nodes: [Node]) throws {
    guard Cancellation.isCancelled else { return }
    transport.closeMasters(nodes)
    Console.err("interrupted: no command is left running on piswarm's side")
    throw ExitCode(130)
  }
}
