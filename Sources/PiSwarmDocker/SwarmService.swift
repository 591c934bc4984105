// swift-format-ignore-file: AlwaysUseLowerCamelCase

// The properties mirror the Engine API's JSON names (ID, ServerVersion, …) so that the models decode
// and encode without a key map to get wrong; label keys inside them must never be case-converted.
import Foundation
import PiSwarmCore

/// A swarm service as `GET /services?status=true` returns it: the parts piswarm reads.
public struct SwarmService: Codable, Sendable, Equatable {
  public var ID: String
  public var Version: ObjectVersion
  public var CreatedAt: String?
  public var UpdatedAt: String?
  public var Spec: ServiceSpec
  /// Present with `status=true` (API 1.41+).
  public var ServiceStatus: Counts?
  public var UpdateStatus: Update?

  public struct ServiceSpec: Codable, Sendable, Equatable {
    public var Name: String
    public var Labels: [String: String]?
    public var Mode: ServiceMode?
    public var TaskTemplate: TaskTemplate?
  }

  public struct TaskTemplate: Codable, Sendable, Equatable {
    public var Placement: Placement?
  }

  public struct Placement: Codable, Sendable, Equatable {
    /// `node.role==worker`, `node.labels.rack!=a` …
    public var Constraints: [String]?
  }

  public struct ServiceMode: Codable, Sendable, Equatable {
    public var Replicated: Replicated?
    public var Global: [String: JSONValue]?
  }

  public struct Replicated: Codable, Sendable, Equatable {
    public var Replicas: Int?
  }

  public struct Counts: Codable, Sendable, Equatable {
    public var RunningTasks: Int
    public var DesiredTasks: Int
  }

  public struct Update: Codable, Sendable, Equatable {
    /// updating, paused, completed, rollback_started, rollback_paused, rollback_completed.
    public var State: String?
    public var Message: String?
  }

  /// The stack it belongs to, by the docker CLI's label.
  public var stack: String? { Spec.Labels?[StackConfig.namespaceLabel] }
}
