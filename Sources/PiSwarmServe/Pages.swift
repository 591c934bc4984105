import Foundation
import Mustache
import PiSwarmCore

/// The pages, rendered on the server from Mustache templates (Templates.swift). Each is a pure
/// function of what it shows; Mustache escapes every value, so text from nodes stays text.
public enum Pages {
  /// Who is looking, and what they may do.
  public struct Viewer: Sendable, Equatable {
    public var loggedIn: Bool
    public var readOnly: Bool
    /// The session's CSRF token, put in every form (empty when not logged in).
    public var csrf: String

    public init(loggedIn: Bool, readOnly: Bool, csrf: String) {
      self.loggedIn = loggedIn
      self.readOnly = readOnly
      self.csrf = csrf
    }

    var mayAct: Bool { loggedIn && !readOnly }
  }

  static let library: MustacheLibrary = {
    var library = MustacheLibrary()
    for (name, text) in Templates.all {
      // The templates are constants of this file's module, checked by the golden tests.
      do { try library.register(text, named: name) } catch { preconditionFailure("template \(name): \(error)") }
    }
    return library
  }()

  static func render(_ object: [String: Any], _ template: String) -> String {
    library.render(object, withTemplate: template) ?? ""
  }

  /// The whole rack page.
  public static func rack(_ view: RackView, viewer: Viewer) -> String {
    render(
      [
        "title": "\(view.cluster): the rack", "cluster": view.cluster, "viewer": viewerObject(viewer),
        "summary": summaryObject(view),
        "groups": view.groups.map { group in
          ["name": group.name, "named": !group.name.isEmpty, "tiles": group.tiles.map { tile($0, viewer) }] as [String: Any]
        },
      ], "rack")
  }

  /// One tile, as the rack page has it and as the live updates replace it.
  public static func tileHTML(_ tile: RackView.Tile, viewer: Viewer) -> String {
    render(Self.tile(tile, viewer), "tile")
  }

  /// The counts line at the top of the rack page.
  public static func summary(_ view: RackView) -> String {
    render(summaryObject(view), "summary")
  }

  static func summaryObject(_ view: RackView) -> [String: Any] {
    let total = view.groups.reduce(0) { $0 + $1.tiles.count }
    return [
      "total": total,
      "parts": ["ok", "warn", "bad", "unknown"].compactMap { health -> [String: Any]? in
        guard let count = view.counts[health], count > 0 else { return nil }
        return ["health": health, "count": count]
      },
    ]
  }

  static func viewerObject(_ viewer: Viewer) -> [String: Any] {
    ["loggedIn": viewer.loggedIn, "readOnly": viewer.readOnly, "mayAct": viewer.mayAct, "csrf": viewer.csrf]
  }

  static func tile(_ tile: RackView.Tile, _ viewer: Viewer) -> [String: Any] {
    var actions: [[String: Any]] = []
    if viewer.mayAct {
      // What the power allows: off and cycle when on, on when off, all three when unknown.
      let power: [(String, String)] =
        switch tile.power {
        case "on"?: [("off", "power off"), ("cycle", "power cycle")]
        case "off"?: [("on", "power on")]
        case "uncontrolled"?: []
        default: [("on", "power on"), ("off", "power off"), ("cycle", "power cycle")]
        }
      actions = power.map { ["action": $0.0, "label": $0.1] }
      switch tile.availability {
      case "active"?: actions.append(["action": "drain", "label": "drain"])
      case .some: actions.append(["action": "activate", "label": "activate"])
      case nil: break
      }
    }
    return [
      "name": tile.name, "ip": tile.ip, "status": tile.status, "health": tile.health, "reasons": tile.reasons,
      "hasReasons": !tile.reasons.isEmpty,
      "lines": tile.lines.map { ["label": $0.label, "value": $0.value] }, "actions": actions, "hasActions": !actions.isEmpty,
      "csrf": viewer.csrf,
    ]
  }

  /// What a node's page shows besides its tile.
  public struct NodeDetail: Sendable, Equatable {
    public var facts: [(String, String)]
    /// Time, kind, text: boot events and power steps, newest first.
    public var events: [(Date, String, String)]
    public var tasks: [String]
    public var reach: [String]

    public init(facts: [(String, String)], events: [(Date, String, String)], tasks: [String], reach: [String]) {
      self.facts = facts
      self.events = events
      self.tasks = tasks
      self.reach = reach
    }

    public static func == (a: NodeDetail, b: NodeDetail) -> Bool {
      a.facts.map { [$0.0, $0.1] } == b.facts.map { [$0.0, $0.1] } && a.tasks == b.tasks && a.reach == b.reach
        && a.events.map { "\($0.0) \($0.1) \($0.2)" } == b.events.map { "\($0.0) \($0.1) \($0.2)" }
    }
  }

  /// A node's page: its tile, its facts, its recent boot and power events, its tasks, how to reach it.
  public static func node(cluster: String, _ tile: RackView.Tile, _ detail: NodeDetail, viewer: Viewer) -> String {
    render(
      [
        "title": "\(tile.name): \(cluster)", "cluster": cluster, "viewer": viewerObject(viewer), "tile": Self.tile(tile, viewer),
        "name": tile.name,
        "facts": detail.facts.map { ["key": $0.0, "value": $0.1] }, "hasFacts": !detail.facts.isEmpty,
        "events": detail.events.map { ["time": timestamp($0.0), "kind": $0.1, "text": $0.2] },
        "hasEvents": !detail.events.isEmpty,
        "tasks": detail.tasks, "hasTasks": !detail.tasks.isEmpty, "reach": detail.reach,
      ], "node")
  }

  /// Asks before an action is done.
  public static func confirm(node: String, action: String, label: String, csrf: String) -> String {
    render(["title": "\(label) \(node)?", "node": node, "action": action, "label": label, "csrf": csrf], "confirm")
  }

  /// What an action did.
  public static func outcome(node: String, label: String, ok: Bool, message: String) -> String {
    render(["title": "\(label) \(node)", "node": node, "label": label, "ok": ok, "message": message], "outcome")
  }

  /// The login form; `problem` says why the last try failed.
  public static func login(problem: String?) -> String {
    render(["title": "log in", "problem": problem ?? "", "hasProblem": problem != nil], "login")
  }

  static func timestamp(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.timeZone = TimeZone(identifier: "UTC")
    return formatter.string(from: date)
  }
}
