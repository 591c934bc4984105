import ArgumentParser

struct SecretCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "secret",
    abstract: "Store, list and remove credentials (SNMP communities, BMC passwords, webhook tokens).",
    discussion: """
      Secrets live in STATE/secrets (0600) and are referenced from cluster.yml by name, e.g.
      `community_secret: poe-community`. piswarm never prints a secret's value: there is no
      command that shows one, and messages name secrets only. A value is read from stdin (or
      typed at a prompt that does not echo), never taken as an argument, which other users
      could read in the process list.

      Examples:
        piswarm secret set poe-community              # type it at the prompt
        printf '%s' "$BMC_PASSWORD" | piswarm secret set turingpi-bmc
        piswarm secret ls
        piswarm secret rm poe-community
      """,
    subcommands: [SecretSet.self, SecretList.self, SecretRemove.self]
  )
}
