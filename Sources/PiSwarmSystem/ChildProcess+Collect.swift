import Foundation
import PiSwarmCore

#if canImport(Glibc)
  import Glibc
#endif

/// What a child that ran to its end left: its status and what it wrote.
public struct ProcessOutput: Sendable {
  /// The exit status, or 128 + the signal that ended the process.
  public var status: Int32
  public var stdout: Data
  public var stderr: Data
  /// True when the process was killed because its deadline passed.
  public var timedOut: Bool = false
  /// True when the process wrote more than its output limit and was killed for it.
  public var truncated: Bool = false

  public init(status: Int32, stdout: Data, stderr: Data, timedOut: Bool = false, truncated: Bool = false) {
    self.status = status
    self.stdout = stdout
    self.stderr = stderr
    self.timedOut = timedOut
    self.truncated = truncated
  }

  public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
  public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

extension ChildProcess {
  /// How long the output pipes are still read after the child was killed: a process outside its
  /// group that holds them open (a daemon it started) does not keep the caller waiting.
  static let drainAfterKill = 2.0

  /// Feeds `data` to stdin (with `Input.pipe`), reads stdout and stderr (with `Output.pipe`)
  /// until they close, then waits for the child. At `deadline` the child is killed (SIGKILL; its
  /// whole group when it leads one) and the result marked `timedOut`; one that writes more than
  /// `outputLimit` bytes on either is killed and its output marked `truncated`, cut at the limit.
  /// `keepInputOpen` holds stdin open after `data` until the output closes, for a peer (like
  /// `docker system dial-stdio`) that takes an early EOF as the client going away. A reader that
  /// went away (EPIPE on stdin) ends the feeding, nothing else. Closes the pipes.
  public func collect(
    input data: Data = Data(), deadline: Deadline? = nil, outputLimit: Int? = nil, keepInputOpen: Bool = false,
    onOutput: (@Sendable (Data, Bool) -> Void)? = nil
  ) -> ProcessOutput {
    var out = Data()
    var err = Data()
    var timedOut = false
    var truncated = false
    var drainEnd: Deadline?
    var pending = data[...]
    var writeFD = input
    var heldOpen: Int32 = -1
    var reading = [output, errors].filter { $0 >= 0 }
    var buffer = [UInt8](repeating: 0, count: 65536)

    func stopWriting(hold: Bool) {
      guard writeFD >= 0 else { return }
      if hold { heldOpen = writeFD } else { close(writeFD) }
      writeFD = -1
    }
    func stopReading() {
      for fd in reading { close(fd) }
      reading = []
    }

    if writeFD >= 0 {
      _ = fcntl(writeFD, F_SETFL, fcntl(writeFD, F_GETFL) | O_NONBLOCK)
      if pending.isEmpty { stopWriting(hold: keepInputOpen) }
    }
    while !reading.isEmpty || writeFD >= 0 {
      if let deadline, !timedOut, deadline.hasPassed {
        timedOut = true
        signal(SIGKILL)
        drainEnd = Deadline(in: Self.drainAfterKill)
      }
      if let drainEnd, drainEnd.hasPassed {
        stopReading()
        stopWriting(hold: false)
        break
      }
      var fds = reading.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
      if writeFD >= 0 { fds.append(pollfd(fd: writeFD, events: Int16(POLLOUT), revents: 0)) }
      let wait = (drainEnd ?? deadline).map { $0.pollTimeout() } ?? -1
      let ready = poll(&fds, nfds_t(fds.count), wait)
      if ready < 0 && errno != EINTR { break }
      for entry in fds where entry.revents != 0 {
        if entry.fd == writeFD {
          let written = pending.withUnsafeBytes { write(writeFD, $0.baseAddress, $0.count) }
          if written > 0 { pending = pending.dropFirst(written) }
          if written < 0 && errno != EAGAIN && errno != EINTR || pending.isEmpty {
            stopWriting(hold: keepInputOpen && written >= 0)
          }
          continue
        }
        let count = read(entry.fd, &buffer, buffer.count)
        if count > 0 {
          let isError = entry.fd == errors
          let held = isError ? err.count : out.count
          let kept = outputLimit.map { max(0, min(count, $0 - held)) } ?? count
          if kept > 0 {
            onOutput?(Data(buffer[0..<kept]), isError)
            if isError { err.append(contentsOf: buffer[0..<kept]) } else { out.append(contentsOf: buffer[0..<kept]) }
          }
          if kept < count {
            // Over the limit: the child is killed and its output no longer read (a child of its
            // own holding the pipe gets EPIPE rather than being drained forever).
            truncated = true
            signal(SIGKILL)
            stopReading()
            stopWriting(hold: false)
            break
          }
        } else if count == 0 || errno != EINTR && errno != EAGAIN {
          close(entry.fd)
          reading.removeAll { $0 == entry.fd }
        }
      }
    }
    if heldOpen >= 0 { close(heldOpen) }
    let status = wait()
    return ProcessOutput(status: status, stdout: out, stderr: err, timedOut: timedOut, truncated: truncated)
  }
}
