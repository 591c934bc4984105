import Foundation
import PiSwarmCore
import PiSwarmSystem

/// HTTPS to a power controller (a BMC, a webhook server) whose public key is pinned on first
/// use, as SSH pins a host key: the first contact reads the server's key with
/// `openssl s_client` before anything is sent, keeps its pin in `STATE/power/pins/`, and every
/// request then goes through curl with `pinnedpubkey`, so a server with another key gets no
/// credential. The request (URL, headers with credentials, body) is curl's configuration on its
/// stdin (`--config -`): nothing of it is in curl's arguments.
struct PinnedHTTPS: Sendable {
  var tools: PowerTools
  var stateDirectory: String

  func pinFile(_ endpoint: PowerEndpoint) -> String {
    "\(stateDirectory)/\(CertificatePin.folder)/\(CertificatePin.fileName(endpoint))"
  }

  /// The endpoint's pin: the stored one, else the key the server presents now, stored.
  func pin(for endpoint: PowerEndpoint) throws(PiSwarmError) -> String {
    let path = pinFile(endpoint)
    if Files.exists(path) {
      guard let pin = CertificatePin.parse(String(decoding: try Files.read(path), as: UTF8.self)) else {
        throw PiSwarmError(
          .system, "\(path) holds no pin", advice: "delete it and run the command again to pin the server's current key")
      }
      return pin
    }
    let pin = try presentedPin(endpoint)
    try Files.makePrivateDirectory((path as NSString).deletingLastPathComponent)
    try AtomicFile.write(CertificatePin.render(pin: pin, endpoint: endpoint), to: path, mode: 0o600)
    return pin
  }

  /// The pin of the key `endpoint` presents, read without sending it anything.
  func presentedPin(_ endpoint: PowerEndpoint) throws(PiSwarmError) -> String {
    var handshake = Command(tools.openssl, ["s_client", "-connect", endpoint.description], timeout: 20)
    handshake.outputLimit = 1 << 20
    let hello = try handshake.run(input: Data())
    let publicKey = try Command(tools.openssl, ["x509", "-pubkey", "-noout"], timeout: 20).run(input: hello.stdout)
    guard publicKey.status == 0, let pin = CertificatePin.pin(publicKeyPEM: publicKey.stdoutText) else {
      let said = hello.stderrText.split(separator: "\n").filter { !$0.hasPrefix("depth=") && !$0.hasPrefix("verify") }
        .prefix(3).joined(separator: "; ")
      throw PiSwarmError(
        .system, "cannot read the certificate of the power controller at \(endpoint) (no TLS handshake)",
        advice: "check that it is on, that \(endpoint) is its address, and that it speaks HTTPS there",
        cause: said.isEmpty ? nil : said)
    }
    return pin
  }

  /// Sends `request` to `endpoint`: pinned HTTPS, or plain HTTP for an `http://` URL (only
  /// where the settings allowed it).
  func send(_ request: HTTPRequest, to endpoint: PowerEndpoint, allowHTTP: Bool = false) throws(PiSwarmError) -> HTTPResponse {
    let plain = WebhookRequests.scheme(of: request.url) == "http"
    guard !plain || allowHTTP else {
      throw PiSwarmError(.invalidInput, "\(request.summary) is plain http", advice: "use https, or set allow_http: true")
    }
    let pin = plain ? nil : try self.pin(for: endpoint)
    let configuration = try CurlConfig.render(request, pin: pin, allowHTTP: plain)
    var command = Command(tools.curl, ["--config", "-"], timeout: Double(CurlConfig.maximumTime + 10))
    command.outputLimit = 2 << 20
    let output = try command.run(input: Data(configuration.utf8))
    switch output.status {
    case 0:
      guard let response = HTTPResponse.parse(curlOutput: output.stdoutText) else {
        throw PiSwarmError(.system, "curl gave no HTTP status for \(request.summary)", cause: output.stderrText)
      }
      return response
    case 90:
      throw CertificatePin.mismatch(endpoint, pinFile: pinFile(endpoint))
    case 6, 7, 28:
      throw PiSwarmError(
        .system, "cannot reach the power controller at \(endpoint) for \(request.summary)",
        advice: "check that it is on and that \(endpoint) is its address", cause: output.stderrText)
    default:
      throw PiSwarmError(
        .system, "\(request.summary) failed (curl status \(output.status))",
        cause: output.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))
    }
  }
}
