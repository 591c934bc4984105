import Foundation
import PiSwarmCore
import PiSwarmNetboot
import PiSwarmSystem

/// The head's registry services for real: reads their state (`observe`) and applies
/// `RegistryHead.Plan` (`apply`): docker-registry installed, the cluster CA and the server
/// certificate made with the openssl CLI (keys 0600 in the 0700 state folder, never printed),
/// each instance's configuration and unit written atomically, the instances (re)started and
/// answering over TLS before it returns.
public struct HeadRegistry: Sendable {
  public let cluster: Cluster
  public let paths: RegistryPaths
  public let services: any ServiceControl

  /// Debian's own unit, which serves its default configuration on port 5000.
  public static let packageUnit = "docker-registry"

  public init(cluster: Cluster, stateDirectory: String, services: any ServiceControl = SystemdServices()) {
    self.cluster = cluster
    self.paths = RegistryPaths(stateDirectory: Files.absolute(stateDirectory), settings: cluster.registry)
    self.services = services
  }

  public func service(_ role: RegistryRole) -> HeadService {
    HeadService(
      name: role.unit, arguments: RegistryFiles.arguments(role, paths),
      unit: RegistryFiles.unit(role, cluster: cluster, paths: paths), pidFile: paths.pidFile(role), log: paths.log(role),
      services: services)
  }

  /// What is there now; changes nothing.
  public func observe() -> RegistryHead.State {
    let systemd = services.unavailableReason == nil
    var state = RegistryHead.State(
      installed: Files.exists(RegistryFiles.executable), apt: Command.resolve("apt-get") != nil, systemd: systemd)
    if Files.exists(paths.caKey) { state.caCertificate = Files.readWhole(paths.caCertificate) }
    state.serverExtensions = Files.readWhole(paths.serverExtensions)
    state.serverValid = state.caCertificate != nil && Files.exists(paths.serverKey) && serverCertificateIsValid()
    for role in RegistryRole.allCases {
      state.configs[role] = Files.readWhole(paths.config(role))
      let service = service(role)
      if systemd { state.units[role] = Files.readWhole(service.unitPath) }
      if service.isRunning { state.running.insert(role) }
    }
    state.packageService = systemd && services.isActive(Self.packageUnit)
    return state
  }

  /// Issued by the cluster CA and valid for 30 days more.
  func serverCertificateIsValid() -> Bool {
    guard Files.exists(paths.serverCertificate), let openssl = Command.resolve("openssl") else { return false }
    let verified = try? Command(openssl, ["verify", "-CAfile", paths.caCertificate, paths.serverCertificate], timeout: 20).run()
    let lasting = try? Command(
      openssl, ["x509", "-checkend", String(30 * 86400), "-noout", "-in", paths.serverCertificate], timeout: 20
    ).run()
    return verified?.status == 0 && lasting?.status == 0
  }

  /// Applies `plan`; the first failure stops it and is thrown.
  public func apply(_ plan: RegistryHead.Plan, progress: @Sendable (String) -> Void = { _ in }) throws(PiSwarmError) {
    for role in plan.stop { try service(role).stop(disable: true) }
    guard cluster.registry.enabled else { return }
    if plan.install {
      progress("installing docker-registry")
      let output = try Command(
        "apt-get", ["install", "-y", "-q", "docker-registry"], environment: Self.aptEnvironment, timeout: 600
      ).run()
      guard output.status == 0 else {
        throw PiSwarmError(
          .system, "apt-get install docker-registry failed on the head",
          advice: "run 'apt-get install docker-registry' yourself and see what it says, then run 'piswarm up' again",
          cause: output.stderrText.split(separator: "\n").suffix(3).joined(separator: "; "))
      }
    }
    // The package starts its own instance on port 5000 of every address under systemd.
    if plan.stopPackageService || (plan.install && services.unavailableReason == nil && services.isActive(Self.packageUnit)) {
      try services.disable(Self.packageUnit)
    }
    try Files.makePrivateDirectory(paths.folder)
    if plan.makeCA {
      progress("making the cluster CA")
      try makeCA()
    }
    if plan.issueServerCertificate {
      progress("issuing the server certificate for \(cluster.headHost)")
      try issueServerCertificate()
    }
    for role in cluster.registry.roles {
      try Files.makeDirectory(paths.dataRoot, mode: 0o700)
      try Files.makeDirectory(paths.data(role), mode: 0o700)
      if let config = plan.configs[role] { _ = try AtomicFile.write(config, to: paths.config(role), mode: 0o600) }
      if plan.units[role] != nil { _ = try service(role).writeUnit() }
    }
    for role in plan.start {
      progress("starting the \(role.rawValue) registry on \(cluster.headHost):\(role.port(cluster.registry))")
      try service(role).restart()
      try waitUntilAnswering(role)
    }
  }

  static let aptEnvironment = [
    "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive",
  ]

  /// A new CA (P-256, ten years): key and certificate made in a private temporary folder, then
  /// renamed into place, the key first.
  func makeCA() throws(PiSwarmError) {
    let work = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: work) }
    try openssl(
      [
        "req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", work + "/ca.key", "-out", work + "/ca.crt", "-days", "3650", "-subj", RegistryFiles.caSubject(cluster),
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
      ], "make the cluster CA")
    try place(work + "/ca.key", paths.caKey, mode: 0o600)
    try place(work + "/ca.crt", paths.caCertificate, mode: 0o644)
  }

  /// A server certificate for the head's address, issued by the CA (P-256, 825 days).
  func issueServerCertificate() throws(PiSwarmError) {
    let work = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: work) }
    let extensions = RegistryFiles.serverExtensions(cluster)
    _ = try AtomicFile.write(extensions, to: work + "/server.ext", mode: 0o600)
    try openssl(
      [
        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", work + "/server.key",
        "-out", work + "/server.csr", "-subj", RegistryFiles.serverSubject(cluster),
      ], "make the server key")
    let serial = "0x" + (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255) & 0x7f) }.joined()
    try openssl(
      [
        "x509", "-req", "-in", work + "/server.csr", "-CA", paths.caCertificate, "-CAkey", paths.caKey, "-set_serial", serial,
        "-days", "825", "-extfile", work + "/server.ext", "-out", work + "/server.crt",
      ], "issue the server certificate")
    try place(work + "/server.key", paths.serverKey, mode: 0o600)
    try place(work + "/server.crt", paths.serverCertificate, mode: 0o644)
    _ = try AtomicFile.write(extensions, to: paths.serverExtensions, mode: 0o644)
  }

  func temporaryFolder() throws(PiSwarmError) -> String {
    let work = paths.folder + "/.new-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try Files.makePrivateDirectory(work)
    return work
  }

  func place(_ from: String, _ to: String, mode: mode_t) throws(PiSwarmError) {
    guard chmod(from, mode) == 0, rename(from, to) == 0 else {
      throw PiSwarmError(.system, "cannot move \(from) to \(to): \(String(cString: strerror(errno)))")
    }
  }

  /// Runs openssl; its output is never shown (no key goes there, but keep it so).
  func openssl(_ arguments: [String], _ what: String) throws(PiSwarmError) {
    guard let openssl = Command.resolve("openssl") else {
      throw PiSwarmError(.system, "openssl is not installed on the head", advice: "apt-get install openssl")
    }
    let output = try Command(openssl, arguments, timeout: 60).run()
    guard output.status == 0 else {
      throw PiSwarmError(
        .system, "openssl could not \(what) (status \(output.status))",
        advice: "check that \(paths.folder) is writable by root and the openssl package is intact")
    }
  }

  /// Waits up to 15 s until the instance answers `/v2/` over TLS, verified by the cluster CA.
  func waitUntilAnswering(_ role: RegistryRole) throws(PiSwarmError) {
    let deadline = Deadline(in: 15)
    var last = RegistryProbe.Answer(status: nil, error: "not asked")
    while !deadline.hasPassed {
      last = RegistryProbe.ask(cluster: cluster, paths: paths, role: role)
      if last.status == 200 { return }
      usleep(200_000)
    }
    throw PiSwarmError(
      .system,
      "the \(role.rawValue) registry does not answer on https://\(cluster.headHost):\(role.port(cluster.registry))/v2/: "
        + (last.error ?? "HTTP \(last.status.map(String.init) ?? "?")"),
      advice: (service(role).systemd
        ? "see 'journalctl -u \(role.unit)'" : "see \(paths.log(role)); is the port taken by another program?")
        + (role == .cache
          ? "; the cache exits when it cannot reach registry.upstream (\(cluster.registry.upstream)): on a head without "
            + "internet set registry: { cache: false } (the private registry works offline)" : ""))
  }
}

/// Asking an instance over HTTPS with curl, trusting only the cluster CA.
public enum RegistryProbe {
  public struct Answer: Sendable, Equatable {
    /// The HTTP status, when it answered over verified TLS.
    public var status: Int?
    /// curl's error (a refused connection, a certificate it could not verify, …).
    public var error: String?
  }

  public static func ask(cluster: Cluster, paths: RegistryPaths, role: RegistryRole, path: String = "/v2/") -> Answer {
    let url = "https://\(cluster.headHost):\(role.port(cluster.registry))\(path)"
    guard let curl = Command.resolve("curl") else { return Answer(status: nil, error: "curl is not installed on the head") }
    guard
      let output = try? Command(
        curl,
        [
          "-sS", "--noproxy", "*", "--max-time", "5", "--cacert", paths.caCertificate, "-o", "/dev/null", "-w", "%{http_code}",
          url,
        ],
        timeout: 10
      ).run()
    else { return Answer(status: nil, error: "curl did not run") }
    if output.status == 0, let code = Int(output.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) {
      return Answer(status: code, error: nil)
    }
    return Answer(
      status: nil,
      error: output.stderrText.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "curl: ", with: ""))
  }
}
