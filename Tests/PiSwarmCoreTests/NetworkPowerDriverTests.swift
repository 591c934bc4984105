import Foundation
import PiSwarmTestSupport
import Testing

@testable import PiSwarmCore

/// The pure parts of the snmp-poe, turingpi and webhook drivers: settings, what they render
/// (net-snmp's client configuration, curl's, the pin file), and what answers mean.
@Suite struct NetworkPowerDriverTests {
  static let community = Secret(name: "poe-community", value: "pub\"lic \\ x")
  static let auth = Secret(name: "poe-auth", value: "auth-passphrase")
  static let priv = Secret(name: "poe-priv", value: "priv-passphrase")

  static func snmp(_ extra: [String: String] = [:]) throws -> SNMPPoESettings {
    var settings = ["host": "192.168.1.2", "port": "5", "community_secret": "poe-community"]
    for (key, value) in extra { settings[key] = value }
    return try SNMPPoESettings.parse(settings, node: "node01")
  }

  @Test func snmpSettingsAndTheOID() throws {
    let v2c = try Self.snmp()
    #expect(v2c.oid == "1.3.6.1.2.1.105.1.1.1.3.1.5")
    #expect(v2c.agentAddress == "udp:192.168.1.2:161")
    #expect(v2c.cycleDelay == 3)
    let grouped = try Self.snmp(["group": "2", "host": "Switch.LAN:1161"])
    #expect(grouped.oid == "1.3.6.1.2.1.105.1.1.1.3.2.5")
    #expect(grouped.agentAddress == "udp:switch.lan:1161")
    #expect(grouped.portDescription == "port 5 (group 2)")
  }

  @Test(arguments: [
    (["port": ""], "needs the key port"),
    (["port": "0"], "power port \"0\" is not a number from 1 to 65535"),
    (["host": "a/b"], "is not a host name or IPv4 address"),
    (["version": "1"], "is not an SNMP version"),
    (["community_secret": "Public!"], "is not a secret name"),
    (["version": "3"], "needs the key user"),
    (["version": "3", "user": "u", "priv_secret": "p"], "priv_secret is set without auth_secret"),
    (["auth_protocol": "SHA1"], "auth_protocol \"SHA1\" is not one of"),
    (["cycle_delay": "-1"], "cycle_delay \"-1\" is not a number of seconds"),
  ])
  func badSnmpSettingsAreNamed(_ extra: [String: String], _ message: String) throws {
    #expect {
      _ = try Self.snmp(extra)
    } throws: { error in
      "\(error)".contains(message) && "\(error)".contains("node01")
    }
  }

  @Test func snmpClientConfigurationsMatchTheirGoldenFiles() throws {
    let v2c = try SNMPPoE.clientConfiguration(Self.snmp(), credentials: .init(community: Self.community))
    #expect(Golden.check(v2c, named: "snmp-v2c.conf") == nil)
    let v3settings = try Self.snmp([
      "version": "3", "user": "piswarm", "auth_secret": "poe-auth", "priv_secret": "poe-priv", "auth_protocol": "sha-256",
    ])
    let v3 = try SNMPPoE.clientConfiguration(v3settings, credentials: .init(auth: Self.auth, priv: Self.priv))
    #expect(Golden.check(v3, named: "snmp-v3.conf") == nil)
    let authOnly = try SNMPPoE.clientConfiguration(v3settings, credentials: .init(auth: Self.auth))
    #expect(authOnly.contains("defSecurityLevel authNoPriv") && !authOnly.contains("defPrivPassphrase"))
  }

  @Test func snmpArgumentsNeverCarryACredential() throws {
    let settings = try Self.snmp([
      "version": "3", "user": "piswarm", "auth_secret": "poe-auth", "priv_secret": "poe-priv",
    ])
    let lines = [
      SNMPPoE.setArguments(settings, on: true), SNMPPoE.setArguments(settings, on: false), SNMPPoE.getArguments(settings),
    ]
    #expect(lines[0].suffix(4) == ["udp:192.168.1.2:161", "1.3.6.1.2.1.105.1.1.1.3.1.5", "i", "1"])
    #expect(lines[1].last == "2")
    for arguments in lines {
      for secret in [Self.community, Self.auth, Self.priv] { #expect(!arguments.joined(separator: " ").contains(secret.value)) }
      #expect(!arguments.contains { ["-c", "-u", "-A", "-X", "-a", "-x", "-l"].contains($0) })
    }
  }

  @Test func unusableSnmpSecretsAreRefusedByName() throws {
    let settings = try Self.snmp()
    #expect {
      _ = try SNMPPoE.clientConfiguration(settings, credentials: .init(community: Secret(name: "c", value: "a\nb")))
    } throws: { "\($0)".contains("secret c") && !"\($0)".contains("a\nb") }
    let v3 = try Self.snmp(["version": "3", "user": "u", "auth_secret": "a"])
    #expect {
      _ = try SNMPPoE.clientConfiguration(v3, credentials: .init(auth: Secret(name: "a", value: "short")))
    } throws: { "\($0)".contains("shorter than 8") && !"\($0)".contains("short\"") }
  }

  @Test func snmpAnswersAndFailuresSayWhatHappened() throws {
    let settings = try Self.snmp()
    #expect(try SNMPPoE.state(fromOutput: "1\n", settings) == .on)
    #expect(try SNMPPoE.state(fromOutput: "2\n", settings) == .off)
    #expect {
      _ = try SNMPPoE.state(fromOutput: "No Such Instance currently exists at this OID\n", settings)
    } throws: { "\($0)".contains("port 5 is not a PoE port on 192.168.1.2") }
    let timeout = SNMPPoE.failure(
      stderr: "Created directory: /tmp/x\nTimeout: No Response from udp:192.168.1.2:161.\n", status: 1, settings)
    #expect(timeout.message == "no answer from 192.168.1.2 with that community — check community_secret (poe-community)")
    #expect(timeout.causeText == "Timeout: No Response from udp:192.168.1.2:161.")
    let notWritable = SNMPPoE.failure(
      stderr: "Error in packet.\nReason: notWritable (That object does not support modification)\n", status: 2, settings)
    #expect(notWritable.message == "port 5 is not a PoE port on 192.168.1.2")
    #expect(SNMPPoE.failure(stderr: "Reason: noSuchName\n", status: 2, settings).message.contains("not a PoE port"))
    #expect(SNMPPoE.failure(stderr: "Reason: noAccess\n", status: 2, settings).message.contains("does not let these credentials"))
    let v3 = try Self.snmp(["version": "3", "user": "piswarm"])
    #expect(
      SNMPPoE.failure(stderr: "snmpget: Unknown user name\n", status: 1, v3).message.contains(
        "did not accept SNMPv3 user piswarm"))
  }

  static let turingPi = TuringPiSettings(
    bmc: PowerEndpoint(host: "turingpi.local", port: 443), slot: 3, user: "root", passwordSecret: "bmc", cycleDelay: 0)

  @Test func turingPiRequestsAndTheirCurlConfigurations() throws {
    let password = Secret(name: "bmc", value: "tu\"ring\\")
    let login = TuringPiAPI.authenticate(Self.turingPi, password: password)
    #expect(login.url == "https://turingpi.local/api/bmc/authenticate")
    #expect(login.body == #"{"password":"tu\"ring\\","username":"root"}"#)
    let config = try CurlConfig.render(login, pin: "sha256//AAAA")
    #expect(Golden.check(config, named: "curl-turingpi-login.conf") == nil)
    let token = Secret(name: "turingpi-session", value: "abc123")
    let set = TuringPiAPI.setPower(Self.turingPi, on: true, token: token)
    #expect(set.url == "https://turingpi.local/api/bmc?opt=set&type=power&node3=1")
    #expect(try CurlConfig.render(set, pin: nil).contains("header = \"Authorization: Bearer abc123\"\n"))
    #expect(TuringPiAPI.setPower(Self.turingPi, on: false, token: token).url.hasSuffix("node3=0"))
    #expect(TuringPiAPI.getPower(Self.turingPi, token: token).url == "https://turingpi.local/api/bmc?opt=get&type=power")
    #expect(throws: PiSwarmError.self) { try CurlConfig.render(HTTPRequest.init(method: "GET", url: "https://x/\n"), pin: nil) }
    #expect {
      try CurlConfig.render(
        HTTPRequest(method: "GET", url: "https://x/", headers: [HTTPRequest.bearer(Secret(name: "t", value: "a\r\nX: y"))]),
        pin: nil)
    } throws: { !"\($0)".contains("X: y") }
  }

  @Test func turingPiAnswersInBothFirmwareShapes() throws {
    let login = HTTPResponse(status: 200, body: #"{"id":"tok","ip":"10.0.0.1","expires":3600}"#)
    #expect(try TuringPiAPI.token(from: login, Self.turingPi).value == "tok")
    #expect {
      _ = try TuringPiAPI.token(from: HTTPResponse(status: 403, body: "Forbidden"), Self.turingPi)
    } throws: { "\($0)".contains("refused user root with password_secret bmc") }
    let v2 = HTTPResponse(status: 200, body: #"{"response":[{"result":[{"node1":"1","node2":"0","node3":"1","node4":"0"}]}]}"#)
    #expect(try TuringPiAPI.state(from: v2, Self.turingPi) == .on)
    let v1 = HTTPResponse(status: 200, body: #"{"response":[{"node1":0,"node2":0,"node3":0,"node4":1}]}"#)
    #expect(try TuringPiAPI.state(from: v1, Self.turingPi) == .off)
    let unknown = HTTPResponse(status: 200, body: #"{"response":[{"result":[{"node3":"Unknown"}]}]}"#)
    #expect(try TuringPiAPI.state(from: unknown, Self.turingPi) == .unknown)
    try TuringPiAPI.checkSet(HTTPResponse(status: 200, body: #"{"response":[{"result":"ok"}]}"#), Self.turingPi)
    #expect(throws: PiSwarmError.self) {
      try TuringPiAPI.checkSet(
        HTTPResponse(status: 500, body: #"{"response":[{"result":"Failed to set power state"}]}"#), Self.turingPi)
    }
    #expect(HTTPResponse.parse(curlOutput: "{\"a\":1}\n200") == HTTPResponse(status: 200, body: "{\"a\":1}"))
    #expect(HTTPResponse.parse(curlOutput: "\n000")?.status == 0)
  }

  @Test func pinsAreTheSPKIDigestInCurlsForm() throws {
    // A P-256 key's SPKI, and its digest as `openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64` printed it.
    let pem = """
      -----BEGIN PUBLIC KEY-----
      MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAELXoxUdkx5tBv1NPgl07SFXHsT4vg
      xh4XXWS2bUgC3WPOfrmlfANWHQxwwOoSjBap6eXCi8Q43aBlmHHAS3Z3TA==
      -----END PUBLIC KEY-----
      """
    #expect(CertificatePin.pin(publicKeyPEM: "noise\n" + pem + "\n") == "sha256//T6NycZFnJ/qL32jFVRT6bXECvZVePhzieR71xx6/ttw=")
    #expect(CertificatePin.pin(publicKeyPEM: "no key here") == nil)
    let endpoint = PowerEndpoint(host: "turingpi.local", port: 443)
    #expect(CertificatePin.fileName(endpoint) == "turingpi.local_443.pin")
    let file = CertificatePin.render(pin: "sha256//q1Zx3e0MdnLDz2VmyUUZ3nCzomAiQaB7rCRyBvWqAx0=", endpoint: endpoint)
    #expect(Golden.check(file, named: "power-pin.pin") == nil)
    #expect(CertificatePin.parse(file) == "sha256//q1Zx3e0MdnLDz2VmyUUZ3nCzomAiQaB7rCRyBvWqAx0=")
    #expect(
      CertificatePin.mismatch(endpoint, pinFile: "/s/power/pins/turingpi.local_443.pin").advice?.contains(
        "delete /s/power/pins/turingpi.local_443.pin") == true)
  }

  static let node = Node(name: "node01", mac: MACAddress("b8:27:eb:00:00:01"), ip: IPv4Address("10.0.0.11")!, serial: "1a2b3c4d")

  static func webhook(_ extra: [String: String] = [:]) throws -> WebhookSettings {
    var settings = [
      "on_uri": "https://pdu.lan/outlets/{node}/on", "off_uri": "https://pdu.lan/outlets/{node}/off",
      "status_uri": "https://pdu.lan:8443/outlets/{mac}?serial={serial}", "on_pattern": "\"state\": *\"on\"",
      "token_secret": "pdu-token",
    ]
    for (key, value) in extra { settings[key] = value }
    return try WebhookSettings.parse(settings.filter { !$0.value.isEmpty }, node: "node01")
  }

  @Test func webhookRequestsAndStatus() throws {
    let settings = try Self.webhook()
    #expect(settings.on.method == "POST" && settings.status?.method == "GET")
    let token = Secret(name: "pdu-token", value: "t0ken")
    let status = try WebhookRequests.request(
      #require(settings.status), node: Self.node, settings: settings, token: token, password: nil)
    #expect(status.url == "https://pdu.lan:8443/outlets/b8:27:eb:00:00:01?serial=1a2b3c4d")
    #expect(WebhookRequests.endpoint(of: status.url) == PowerEndpoint(host: "pdu.lan", port: 8443))
    #expect(status.headers == [HTTPRequest.Header("Authorization", "Bearer t0ken", isSecret: true)])
    #expect(Golden.check(try CurlConfig.render(status, pin: "sha256//AAAA"), named: "curl-webhook-status.conf") == nil)
    #expect(WebhookRequests.state(fromStatus: #"{"state": "on"}"#, settings) == .on)
    #expect(WebhookRequests.state(fromStatus: #"{"state": "off"}"#, settings) == .off)
    let both = try Self.webhook(["off_pattern": "off"])
    #expect(WebhookRequests.state(fromStatus: "booting", both) == .unknown)
    let basic = try Self.webhook(["token_secret": "", "user": "admin", "password_secret": "pdu-password"])
    let request = try WebhookRequests.request(
      basic.on, node: Self.node, settings: basic, token: nil, password: Secret(name: "pdu-password", value: "pw"))
    #expect(request.headers.first?.value == "Basic YWRtaW46cHc=")
    #expect(request.url == "https://pdu.lan/outlets/node01/on")
    let noSerial = Node(name: "node02", ip: IPv4Address("10.0.0.12")!)
    #expect(throws: PiSwarmError.self) {
      _ = try WebhookRequests.request(#require(settings.status), node: noSerial, settings: settings, token: nil, password: nil)
    }
  }

  @Test(arguments: [
    (["on_uri": "http://pdu.lan/on"], "is not an https:// URI"),
    (["on_uri": "ftp://pdu.lan/on"], "is not an https:// URI"),
    (["off_uri": ""], "needs the key off_uri"),
    (["on_pattern": ""], "status_uri is set without on_pattern"),
    (["on_pattern": "(unclosed"], "is not a regular expression"),
    (["user": "admin"], "token_secret and user/password_secret"),
    (["token_secret": "", "user": "admin"], "user without password_secret"),
    (["on_method": "BREW"], "is not an HTTP method"),
  ])
  func badWebhookSettingsAreNamed(_ extra: [String: String], _ message: String) {
    #expect {
      _ = try Self.webhook(extra)
    } throws: { "\($0)".contains(message) }
  }

  @Test func plainHTTPIsAllowedOnlyExplicitlyAndWarned() throws {
    let settings = try Self.webhook(["on_uri": "http://pdu.lan/on", "allow_http": "true"])
    #expect(settings.warnings == ["power on_uri uses plain http (allow_http: true): the credentials cross the network in clear"])
    #expect(try Self.webhook().warnings.isEmpty)
    let request = HTTPRequest(method: "POST", url: "http://pdu.lan/on")
    #expect(try CurlConfig.render(request, pin: nil, allowHTTP: true).contains("proto = \"=http,https\""))
    #expect(try CurlConfig.render(request, pin: nil).contains("proto = \"=https\""))
  }

  @Test func errorsQuotingAnEchoedCredentialAreRedacted() {
    let secret = Secret(name: "pdu-password", value: "hunter22")
    let error = PiSwarmError(
      .system, "server said hunter22", advice: "not aHVudGVyMjI= either",
      cause: PiSwarmError(.system, "inner hunter22", cause: "deep hunter22"))
    let text = "\(error.redacting([secret]))"
    #expect(!text.contains("hunter22") && !text.contains("aHVudGVyMjI="))
    #expect(text.contains("<secret pdu-password>"))
  }

  @Test func secretListingShowsNamesOnly() throws {
    let entries = SecretListing.entries(["b", "a"])
    #expect(SecretListing.table(entries) == "NAME\na\nb\n")
    #expect(entries.map(\.name) == ["a", "b"])
  }
}
