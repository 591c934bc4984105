import Foundation
import PiSwarmServe
import PiSwarmTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// Who may act: the token, one-time links, sessions and their CSRF tokens.
@Suite struct AccessTests {
  static let token = String(repeating: "ab", count: 32)

  @Test func theTokenIsMadeOnceAndPrivate() throws {
    let folder = TemporaryDirectory("piswarm-access")
    let first = try Access.token(stateDirectory: folder.path)
    #expect(first.count == 64)
    #expect(try Access.token(stateDirectory: folder.path) == first)
    var info = stat()
    #expect(stat(folder.path + "/" + Access.tokenFile, &info) == 0 && info.st_mode & 0o777 == 0o600)
  }

  @Test func aOneTimeLinkLogsInOnceAndExpires() throws {
    let access = Access(token: Self.token)
    let now = Date(timeIntervalSince1970: 1_790_000_000)
    let code = Access.oneTimeCode(token: Self.token, now: now)
    let session = try access.login(code: code, now: now.addingTimeInterval(5)).get()
    #expect(access.csrf(session: session, now: now) != nil)
    #expect(throws: Error.self) { try access.login(code: code, now: now.addingTimeInterval(6)).get() }
    let late = Access.oneTimeCode(token: Self.token, now: now)
    #expect(throws: Error.self) { try access.login(code: late, now: now.addingTimeInterval(Access.codeLifetime + 1)).get() }
    let forged = Access.oneTimeCode(token: String(repeating: "cd", count: 32), now: now)
    #expect(throws: Error.self) { try access.login(code: forged, now: now).get() }
    #expect(throws: Error.self) { try access.login(code: "garbage", now: now).get() }
  }

  @Test func theTokenLogsInAndSessionsEnd() {
    let access = Access(token: Self.token)
    #expect(access.login(token: "wrong") == nil)
    let session = access.login(token: Self.token + "\n")
    let csrf = access.csrf(session: session)
    #expect(csrf != nil && csrf != session)
    #expect(access.csrf(session: "made-up") == nil)
    #expect(access.csrf(session: session, now: Date().addingTimeInterval(Access.sessionLifetime + 1)) == nil)
    access.logout(session: session)
    #expect(access.csrf(session: session) == nil)
  }
}
