import ArgumentParser
import Dispatch
import Foundation
import PiSwarmCore
import PiSwarmNetboot
import PiSwarmSSH
import PiSwarmStore
import PiSwarmSystem
import Synchronization

enum BootEventsReader {
  /// The hook's events (its spool, and the state store, where `piswarm netboot hook` and earlier
  /// versions' hook recorded them) and the log's, oldest first.
  static func all(stateDirectory: String) throws(PiSwarmError) -> [BootEvent] {
    let paths = NetbootPaths(stateDirectory: stateDirectory)
    var events = BootEventSources.logEvents(paths) + BootEventSources.hookEvents(paths)
    if Files.exists(stateDirectory + "/" + SQLiteStateStore.fileName) {
      events += try SQLiteStateStore(stateDirectory: stateDirectory).bootEvents(limit: 100_000)
    }
    return events.sorted { $0.time < $1.time }
  }
}
