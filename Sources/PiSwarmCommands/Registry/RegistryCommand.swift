import ArgumentParser

struct RegistryCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "registry",
    abstract: "The head's registry: a pull-through cache of Docker Hub and a private registry, over TLS.",
    discussion: """
      'piswarm up' runs both on the head when cluster.yml asks for them (registry:, or a stacks:
      section, or head in docker.registry_mirrors): Debian's docker-registry, one instance each,
      with a certificate from a cluster CA piswarm makes (its key stays in the state directory)
      and installs on every node (/etc/docker/certs.d/HEAD:PORT/ca.crt). Every node's
      daemon.json names the cache in registry-mirrors: Docker asks mirrors for Docker Hub
      images only. Push your own images to HEAD:PORT/NAME.

      Examples:
        piswarm registry status
        piswarm registry status --json
        piswarm registry gc
        piswarm registry gc --dry-run
      """,
    subcommands: [RegistryStatus.self, RegistryGC.self]
  )
}
