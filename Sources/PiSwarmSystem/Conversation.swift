import Foundation
import PiSwarmCore
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// A long-lived child process spoken to through its stdin and stdout (for example one
/// `docker system dial-stdio` carrying many HTTP requests). Calls are serialised; the process is
/// ended (stdin closed, then SIGTERM after a grace period) when the conversation is closed or
/// released.
public final class Conversation: Sendable {
  struct State {
    var pid: pid_t
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
    Signals.ignoreBrokenPipes()
    self.answerLimit = answerLimit
    guard let executable = arguments.first, let path = Command.resolve(executable) else {
      throw PiSwarmError(.system, "\(arguments.first ?? "?") is not installed (not found on PATH)")
    }
    var inPipe: [Int32] = [-1, -1]
    var outPipe: [Int32] = [-1, -1]
    var errPipe: [Int32] = [-1, -1]
    let made = Command.spawnLock.withLock { _ in
      Command.cloexecPipe(&inPipe) && Command.cloexecPipe(&outPipe) && Command.cloexecPipe(&errPipe)
    }
    guard made else { throw PiSwarmError(.system, "cannot make pipes: \(String(cString: strerror(errno)))") }
    let started = Spawn.start(path, [path] + arguments.dropFirst(), environment: environment) { actions in
      posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
      posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
      posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
    }
    Glibc.close(inPipe[0])
    Glibc.close(outPipe[1])
    Glibc.close(errPipe[1])
    guard case .success(let pid) = started else {
      Glibc.close(inPipe[1])
      Glibc.close(outPipe[0])
      Glibc.close(errPipe[0])
      throw PiSwarmError(.system, "cannot start \(executable)")
    }
    Command.Children.register(pid)
    _ = fcntl(errPipe[0], F_SETFL, fcntl(errPipe[0], F_GETFL) | O_NONBLOCK)
    state = Mutex(State(pid: pid, input: inPipe[1], output: outPipe[0], errors: errPipe[0]))
    description = executable
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
      let deadline = Date().addingTimeInterval(timeout)
      while !isComplete(answer) {
        let left = deadline.timeIntervalSinceNow
        guard left > 0 else { throw PiSwarmError(.system, "\(description) did not answer within \(Int(timeout)) s") }
        var poller = [pollfd(fd: state.output, events: Int16(POLLIN), revents: 0)]
        let ready = poll(&poller, 1, Int32(min(left, 1) * 1000) + 1)
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

  /// Closes stdin and waits up to two seconds for the process to end, then ends it.
  public func close() {
    let pid: pid_t? = state.withLock { state in
      guard state.pid > 0 else { return nil }
      Glibc.close(state.input)
      Glibc.close(state.output)
      Glibc.close(state.errors)
      state.closed = true
      defer { state.pid = 0 }
      return state.pid
    }
    guard let pid else { return }
    var status: Int32 = 0
    let deadline = Date().addingTimeInterval(2)
    while waitpid(pid, &status, WNOHANG) == 0 {
      if Date() > deadline {
        kill(pid, SIGTERM)
        waitpid(pid, &status, 0)
        break
      }
      usleep(5_000)
    }
    Command.Children.unregister(pid)
  }

  deinit { close() }
}
