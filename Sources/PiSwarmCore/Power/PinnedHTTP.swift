import Crypto
import Foundation

/// One HTTP(S) request of a power driver (the Turing Pi BMC, a webhook), made by curl from a
/// configuration read on its stdin (`curl --config -`): the URL, headers and body (credentials
/// among them) never appear in curl's arguments, which any user can read in /proc.
public struct HTTPRequest: Sendable {
  public struct Header: Sendable, Equatable {
    public var name: String
    public var value: String
    /// A credential (a password, a token): checked like any value, never shown.
    public var isSecret: Bool

    public init(_ name: String, _ value: String, isSecret: Bool = false) {
      self.name = name
      self.value = value
      self.isSecret = isSecret
    }
  }

  public var method: String
  public var url: String
  public var headers: [Header]
  public var body: String?

  public init(method: String, url: String, headers: [Header] = [], body: String? = nil) {
    self.method = method
    self.url = url
    self.headers = headers
    self.body = body
  }

  /// `Authorization: Bearer TOKEN`.
  public static func bearer(_ token: Secret) -> Header { Header("Authorization", "Bearer \(token.value)", isSecret: true) }

  /// `Authorization: Basic base64(USER:PASSWORD)`.
  public static func basic(user: String, password: Secret) -> Header {
    Header("Authorization", "Basic \(Data("\(user):\(password.value)".utf8).base64EncodedString())", isSecret: true)
  }

  /// The request without its credentials, for messages: method and URL.
  public var summary: String { "\(method) \(url)" }
}

/// What came back: the status code and the body.
public struct HTTPResponse: Sendable, Equatable {
  public var status: Int
  public var body: String

  public init(status: Int, body: String) {
    self.status = status
    self.body = body
  }

  /// curl's stdout as `CurlConfig` asks for it: the body, a line break, the status code.
  public static func parse(curlOutput output: String) -> HTTPResponse? {
    guard let newline = output.lastIndex(of: "\n"), let status = Int(output[output.index(after: newline)...]) else {
      return nil
    }
    return HTTPResponse(status: status, body: String(output[..<newline]))
  }

  public var isSuccess: Bool { (200..<300).contains(status) }

  /// The start of the body, escaped, for a message.
  public var bodyExcerpt: String {
    let text = body.trimmingCharacters(in: .whitespacesAndNewlines)
    return TerminalText.escaped(text.count > 200 ? String(text.prefix(200)) + "…" : text)
  }
}

/// curl's configuration file syntax (`curl --config`), rendered for one request.
public enum CurlConfig {
  /// Seconds to connect and for the whole request.
  public static let connectTimeout = 5
  public static let maximumTime = 20

  /// The configuration for `request`: HTTPS only (plain HTTP only with `allowHTTP`), no
  /// redirects followed, no proxy (power controllers sit on the LAN), the server's public key
  /// pinned (`pin`, `sha256//BASE64`; the certificate itself is not checked against a CA, as
  /// a BMC's is self-signed), the status code written after the body.
  public static func render(_ request: HTTPRequest, pin: String?, allowHTTP: Bool = false) throws(PiSwarmError) -> String {
    var lines = [
      "# piswarm: one request of a power driver, read by curl from its stdin",
      "url = \(try quoted(request.url, what: "the URL"))",
      "request = \(try quoted(request.method, what: "the method"))",
      "proto = \(allowHTTP ? "\"=http,https\"" : "\"=https\"")",
      "noproxy = \"*\"",
      "silent",
      "show-error",
      "connect-timeout = \(connectTimeout)",
      "max-time = \(maximumTime)",
      "max-filesize = 1048576",
      "write-out = \"\\n%{http_code}\"",
    ]
    if let pin {
      lines += ["insecure", "pinnedpubkey = \(try quoted(pin, what: "the pin"))"]
    }
    for header in request.headers {
      guard !header.name.isEmpty, header.name.unicodeScalars.allSatisfy({ $0.isASCIIAlphanumeric || $0 == "-" }) else {
        throw PiSwarmError(.invalidInput, "\"\(TerminalText.escaped(header.name))\" is not an HTTP header name")
      }
      let what = header.isSecret ? "a credential (Authorization header)" : "the \(header.name) header"
      lines.append("header = \(try quoted(header.name + ": " + header.value, what: what))")
    }
    if let body = request.body {
      lines.append("data-binary = \(try quoted(body, what: "the request body"))")
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// A double-quoted value: `\` before `"` and `\`. Line breaks and other control characters
  /// are refused: curl would unescape `\n` into a header, splitting it.
  static func quoted(_ value: String, what: String) throws(PiSwarmError) -> String {
    guard value.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
      throw PiSwarmError(
        .invalidInput, "\(what) holds a line break or control character",
        advice: "remove it (for a secret: `piswarm secret set NAME`)")
    }
    return "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
  }
}

/// A server's public key pinned on first use, as SSH pins a host key: `sha256//BASE64` of its
/// SubjectPublicKeyInfo (curl's `--pinnedpubkey` form, stable across certificate renewals that
/// keep the key), kept in `STATE/power/pins/HOST_PORT.pin`.
public enum CertificatePin {
  public static let folder = "power/pins"

  public static func fileName(_ endpoint: PowerEndpoint) -> String { "\(endpoint.host)_\(endpoint.port).pin" }

  /// The pin of the first `-----BEGIN PUBLIC KEY-----` block in `pem` (what
  /// `openssl x509 -pubkey -noout` prints); nil when there is none.
  public static func pin(publicKeyPEM pem: String) -> String? {
    let begin = "-----BEGIN PUBLIC KEY-----"
    let end = "-----END PUBLIC KEY-----"
    guard let start = pem.range(of: begin), let stop = pem.range(of: end, range: start.upperBound..<pem.endIndex) else {
      return nil
    }
    let base64 = pem[start.upperBound..<stop.lowerBound].filter { !$0.isWhitespace }
    guard let der = Data(base64Encoded: String(base64)), !der.isEmpty else { return nil }
    return pin(subjectPublicKeyInfo: der)
  }

  public static func pin(subjectPublicKeyInfo der: Data) -> String {
    "sha256//" + Data(SHA256.hash(data: der)).base64EncodedString()
  }

  /// The pin file: a comment saying what it is and how to replace it, then the pin.
  public static func render(pin: String, endpoint: PowerEndpoint) -> String {
    """
    # The public key of the power controller at \(endpoint), pinned by piswarm when it first
    # connected. A server with another key is refused. If its key changed on purpose (a new
    # certificate, a firmware reset), delete this file and run the command again to pin the new one.
    \(pin)

    """
  }

  /// The pin in a pin file; nil when it holds none.
  public static func parse(_ text: String) -> String? {
    text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.first {
      $0.hasPrefix("sha256//") && $0.count > 8
    }
  }

  /// The error for a server whose key is not the pinned one.
  public static func mismatch(_ endpoint: PowerEndpoint, pinFile: String) -> PiSwarmError {
    PiSwarmError(
      .system, "the power controller at \(endpoint) presented a different public key than the one pinned in \(pinFile)",
      advice:
        "someone may be impersonating it; if its certificate was replaced on purpose (firmware update or reset), delete \(pinFile) and run the command again to pin the new key"
    )
  }
}
