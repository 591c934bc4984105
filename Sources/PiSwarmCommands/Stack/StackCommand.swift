import ArgumentParser

struct StackCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "stack",
    abstract: "Run compose stacks on the swarm: deploy and wait until they converged, list, show tasks, remove.",
    discussion: """
      piswarm drives the docker CLI's own compose conversion ('docker --context CLUSTER stack
      deploy') through the cluster's docker context, and adds what the CLI lacks: the files are
      validated first (errors name the file and line), an unchanged stack is not deployed again,
      and deploy waits until every service converged, showing its progress.

      Examples:
        piswarm stack deploy web -c web/compose.yml -c web/prod.yml
        piswarm stack deploy web                 # the files cluster.yml's stacks: gives it
        piswarm stack deploy portainer           # built in: Portainer's agent stack
        piswarm stack ls
        piswarm stack ps web
        piswarm stack rm web
      """,
    subcommands: [StackDeploy.self, StackList.self, StackPs.self, StackRemove.self]
  )
}
