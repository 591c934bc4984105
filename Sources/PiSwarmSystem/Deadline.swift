/// A point in time after which a wait gives up, on the monotonic clock: setting the wall clock
/// (NTP stepping it on a Pi that booted without a real-time clock, an operator's `date -s`)
/// neither ends a wait early nor stretches it.
public struct Deadline: Sendable, Comparable {
  let instant: ContinuousClock.Instant

  /// `seconds` from now (none or negative: already passed).
  public init(in seconds: Double) {
    instant = ContinuousClock.now.advanced(by: .seconds(max(0, seconds)))
  }

  init(_ instant: ContinuousClock.Instant) { self.instant = instant }

  /// `seconds` from now.
  public static func after(_ seconds: Double) -> Deadline { Deadline(in: seconds) }

  public var hasPassed: Bool { ContinuousClock.now >= instant }

  /// Seconds left, 0 once passed.
  public var secondsLeft: Double { max(0, Self.seconds(ContinuousClock.now.duration(to: instant))) }

  /// This deadline moved `seconds` later.
  public func extended(by seconds: Double) -> Deadline { Deadline(instant.advanced(by: .seconds(seconds))) }

  /// A poll(2) timeout in milliseconds: the time left, at most `cap` seconds, rounded up so that
  /// a wake-up is never early; 0 once passed.
  public func pollTimeout(cap: Double = 1) -> Int32 {
    let left = secondsLeft
    return left <= 0 ? 0 : Int32((min(left, cap) * 1000).rounded(.up))
  }

  public static func < (lhs: Deadline, rhs: Deadline) -> Bool { lhs.instant < rhs.instant }

  static func seconds(_ duration: Duration) -> Double {
    let (whole, attoseconds) = duration.components
    return Double(whole) + Double(attoseconds) / 1e18
  }
}

/// Time taken, on the monotonic clock, for the seconds a command reports.
public struct Stopwatch: Sendable {
  let started = ContinuousClock.now

  public init() {}

  /// Seconds since the stopwatch was made.
  public var seconds: Double { Deadline.seconds(started.duration(to: .now)) }
}
