import Foundation
import PiSwarmCore
import PiSwarmSystem

extension RunExecution {
  /// The cluster ID of the swarm `docker` is a manager of, once it has a leader (up to 30 s).
  static func settledSwarm(_ docker: DockerClient) -> String? {
    let deadline = Deadline(in: 30)
    while !deadline.hasPassed {
      if let info = try? docker.info(), info.Swarm.LocalNodeState == .active, info.Swarm.ControlAvailable == true,
        let id = info.Swarm.Cluster?.ID
      {
        return id
      }
      usleep(250_000)
    }
    return nil
  }
}
