import Foundation
import PiSwarmCore
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// A long-lived child process (a `ChildProcess` with pipes on all three) spoken to through its stdin and stdout (for example one
/// `docker system dial-stdio` carrying many HTTP requests). Calls are serialised; the process is
/// ended (stdin closed, then SIGTERM after a grace period) when the conversation is closed or
/// released.
public final class Conversation: Sendable {
  struct State {
    var child: ChildProcess?
    var input: Int32
    var output: Int32
    var errors: Int32
    var closed = false
    var stderr = Data()
  }

  let state: Mutex<State>
  public let description: String
  /// The largest answer accepted; a peer that sends more is an error (and the conversation ends).
  public let answerLimit: Int

  /// What a peer may send in one answer unless told otherwise: 64 MiB.
  public static let defaultAnswerLimit = 64 << 20

  public init(
    _ arguments: [String], environment: [String: String]? = nil, answerLimit: Int = Conversation.defaultAnswerLimit
  ) throws(PiSwarmError) {
    self.answerLimit = answerLimit
    let child = try ChildProcess.start(arguments, environment: environment, stdin: .pipe)
    _ = fcntl(child.errors, F_SETFL, fcntl(child.errors, F_GETFL) | O_NONBLOCK)
    state = Mutex(State(child: child, input: child.input, output: child.output, errors: child.errors))
    description = child.name
  }

  /// Writes `request`, then reads until `isComplete` says the bytes so far are a whole answer,
  /// the process closes its output, or `timeout` passes.
  public func exchange(_ request: Data, timeout: Double, isComplete: (Data) -> Bool) throws(PiSwarmError) -> Data {
    try state.withLock { (state: inout State) throws(PiSwarmError) -> Data in
      guard !state.closed else { throw PiSwarmError(.system, "\(description) has ended") }
      var offset = 0
      while offset < request.count {
        let written = request[offset...].withUnsafeBytes { write(state.input, $0.baseAddress, $0.count) }
        if written <= 0 {
          if errno == EINTR { continue }
          // EPIPE: the peer ended (SIGPIPE is ignored, see Signals).
          state.closed = true
          throw PiSwarmError(.system, "\(description) stopped reading", cause: drainErrors(&state))
        }
        offset += written
      }
      var answer = Data()
      var buffer = [UInt8](repeating: 0, count: 65536)
      let deadline = Deadline(in: timeout)
      while !isComplete(answer) {
        guard !deadline.hasPassed else {
          throw PiSwarmError(.system, "\(description) did not answer within \(Int(timeout)) s")
        }
        var poller = [pollfd(fd: state.output, events: Int16(POLLIN), revents: 0)]
        let ready = poll(&poller, 1, deadline.pollTimeout())
        if ready < 0 && errno != EINTR { break }
        if ready <= 0 { continue }
        let count = read(state.output, &buffer, buffer.count)
        if count > 0 {
          answer.append(contentsOf: buffer[0..<count])
          if answer.count > answerLimit {
            state.closed = true
            throw PiSwarmError(
              .system, "\(description) sent an answer over \(Command.describe(bytes: answerLimit)); it was cut off",
              advice: "ask for less at once (filters), or check what the peer is sending")
          }
        } else if count == 0 || errno != EINTR && errno != EAGAIN {
          state.closed = true
          if answer.isEmpty { throw PiSwarmError(.system, "\(description) ended without an answer", cause: drainErrors(&state)) }
          break
        }
      }
      return answer
    }
  }

  /// What the process wrote on stderr so far.
  func drainErrors(_ state: inout State) -> String {
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
      let count = read(state.errors, &buffer, buffer.count)
      if count <= 0 { break }
      state.stderr.append(contentsOf: buffer[0..<count])
    }
    return String(decoding: state.stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// Closes stdin and waits up to two seconds for the process to end, then ends it (SIGTERM).
  public func close() {
    let child: ChildProcess? = state.withLock { state in
      guard let child = state.child else { return nil }
      Glibc.close(state.input)
      Glibc.close(state.output)
      Glibc.close(state.errors)
      state.closed = true
      state.child = nil
      return child
    }
    guard let child else { return }
    let deadline = Deadline(in: 2)
    while child.ended() == nil {
      if deadline.hasPassed {
        child.signal(SIGTERM)
        child.wait()
        return
      }
      usleep(5_000)
    }
  }

  deinit { close() }
}
