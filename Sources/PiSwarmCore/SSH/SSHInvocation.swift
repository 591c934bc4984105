/// How piswarm calls the system OpenSSH client: everything explicit on the command line, nothing
/// read from the user's ~/.ssh/config, key-only, pinned host keys, one multiplexing master per node.
public struct SSHInvocation: Sendable, Equatable {
  public var user: String
  public var host: String
  public var key: String
  /// piswarm's own known_hosts (STATE/known_hosts).
  public var knownHosts: String
  /// Folder for the ControlMaster sockets (STATE/ssh, mode 0700).
  public var controlDirectory: String
  public var connectTimeout: Int
  /// Record the key of a host seen for the first time (`--trust-new`) instead of refusing it.
  public var trustNew: Bool
  /// Seconds an idle master stays up.
  public var persist: Int

  public init(
    user: String, host: String, key: String, knownHosts: String, controlDirectory: String, connectTimeout: Int = 5,
    trustNew: Bool = false, persist: Int = 300
  ) {
    self.user = user
    self.host = host
    self.key = key
    self.knownHosts = knownHosts
    self.controlDirectory = controlDirectory
    self.connectTimeout = connectTimeout
    self.trustNew = trustNew
    self.persist = persist
  }

  /// The control socket: short (a Unix socket path has at most 107 bytes), one per user@host.
  public var controlPath: String { "\(controlDirectory)/\(user)@\(host)" }

  public var options: [String] {
    [
      "-F", "/dev/null",
      "-o", "BatchMode=yes",
      "-o", "PasswordAuthentication=no",
      "-o", "KbdInteractiveAuthentication=no",
      "-o", "PreferredAuthentications=publickey",
      "-o", "IdentitiesOnly=yes",
      "-o", "IdentityFile=\(key)",
      "-o", "StrictHostKeyChecking=\(trustNew ? "accept-new" : "yes")",
      "-o", "UserKnownHostsFile=\(knownHosts)",
      "-o", "GlobalKnownHostsFile=/dev/null",
      "-o", "HashKnownHosts=no",
      "-o", "UpdateHostKeys=no",
      "-o", "CheckHostIP=no",
      "-o", "ConnectTimeout=\(connectTimeout)",
      "-o", "ConnectionAttempts=1",
      "-o", "ServerAliveInterval=10",
      "-o", "ServerAliveCountMax=3",
      // curve25519 costs half the CPU of OpenSSH 9.2's default hybrid exchange per login.
      "-o", "KexAlgorithms=curve25519-sha256,curve25519-sha256@libssh.org",
      "-o", "ControlMaster=auto",
      "-o", "ControlPath=\(controlPath)",
      "-o", "ControlPersist=\(persist)",
      "-o", "LogLevel=ERROR",
      "-l", user,
    ]
  }

  /// `ssh … HOST -- COMMAND`: the remote command is one string for the remote shell, quoted here.
  public func arguments(remote command: [String]) -> [String] {
    options + [host, "--", Shell.command(command)]
  }

  /// Asks the node's master to exit (`ssh -O exit`).
  public var exitMaster: [String] { options + ["-O", "exit", host] }
}
