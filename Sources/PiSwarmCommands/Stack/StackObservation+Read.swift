import Foundation
import PiSwarmCore
import PiSwarmDocker
import PiSwarmSSH

/// What `plan` and `up` read of `stacks:`: each stack's configuration through the docker CLI
/// (validated, merged) and the hash labels of its services in the swarm.
enum StackObserver {
  static func observe(
    _ observation: inout RunObservation, cluster: Cluster, clusterFolder: String, cli: Result<DockerCLI, PiSwarmError>,
    transport: SSHTransport
  ) {
    guard !cluster.stacks.isEmpty else { return }
    // What is deployed: through the node the swarm's view was read through; nothing when
    // there is no swarm yet.
    var deployed: [String: [String: String?]] = [:]
    var swarmProblem: String?
    if let view = observation.swarm, let node = cluster.node(named: view.via) {
      var client = RunSession.dockerClient(transport, node)
      do {
        try client.negotiate()
        for service in try client.services(label: StackConfig.namespaceLabel) {
          guard let stack = service.stack else { continue }
          deployed[stack, default: [:]][StackDeployer.shortName(service.Spec.Name, stack: stack)] =
            .some(service.Spec.Labels?[StackConfig.hashLabel])
        }
      } catch {
        swarmProblem = "cannot read the swarm's services through \(node.name): \(error)"
      }
    } else if let error = observation.swarmError {
      swarmProblem = "cannot read the swarm's services: \(error)"
    }
    for stack in cluster.stacks {
      var seen = StackObservation()
      do {
        seen.config = try cli.get().config(stack.resolvedFiles(relativeTo: clusterFolder))
      } catch {
        seen.error = error.description
      }
      if let swarmProblem, seen.error == nil { seen.error = swarmProblem }
      seen.deployed = deployed[stack.name] ?? [:]
      observation.stacks[stack.name] = seen
    }
  }
}
