import Foundation
import PiSwarmCore

extension RunExecution {
  /// The cluster ID of the swarm `docker` is a manager of, once it has a leader (up to 30 s).
  static func settledSwarm(_ docker: DockerClient) -> String? {
    let deadline = ContinuousClock.now + .seconds(30)
    while ContinuousClock.now < deadline {
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
