// swift-format-ignore-file: AlwaysUseLowerCamelCase

// The properties mirror the Engine API's JSON names (ID, ServerVersion, …) so that the models decode
// and encode without a key map to get wrong; label keys inside them must never be case-converted.
import Foundation
import PiSwarmCore

/// The parts of the Engine API's answers piswarm reads. Field names as the API spells them.
public struct EngineInfo: Codable, Sendable, Equatable {
  public var ID: String?
  public var Name: String
  public var ServerVersion: String
  public var Driver: String
  public var DriverStatus: [[String]]?
  public var DockerRootDir: String?
  public var Architecture: String?
  public var Swarm: SwarmInfo

  /// overlay2's "Backing Filesystem" (extfs, nfs, …).
  public var backingFilesystem: String? { DriverStatus?.first { $0.first == "Backing Filesystem" }?.last }
}

public struct SwarmInfo: Codable, Sendable, Equatable {
  /// inactive, pending, active, error, locked
  public var LocalNodeState: String
  public var NodeID: String?
  public var NodeAddr: String?
  public var ControlAvailable: Bool?
  public var Cluster: ClusterInfo?
  public var RemoteManagers: [Peer]?

  public struct ClusterInfo: Codable, Sendable, Equatable {
    public var ID: String
  }

  public struct Peer: Codable, Sendable, Equatable {
    public var NodeID: String
    public var Addr: String
  }
}

public struct ObjectVersion: Codable, Sendable, Equatable {
  public var Index: Int
}

/// `GET /swarm`. The join tokens are secrets: never print or log this value.
public struct SwarmInspect: Codable, Sendable {
  public var ID: String
  public var Version: ObjectVersion
  public var Spec: JSONValue
  public var JoinTokens: Tokens

  public struct Tokens: Codable, Sendable {
    public var Worker: String
    public var Manager: String
  }

  /// Whether the managers' autolock is on (Spec.EncryptionConfig.AutoLockManagers).
  public var autolock: Bool { Spec["EncryptionConfig"]?["AutoLockManagers"] == .bool(true) }
}

/// `GET /swarm/unlockkey`. A secret: never print or log it.
public struct UnlockKeyBody: Codable, Sendable {
  public var UnlockKey: String
}

public struct SwarmNode: Codable, Sendable, Equatable {
  public var ID: String
  public var Version: ObjectVersion
  public var Spec: NodeSpec
  public var Description: Description?
  public var Status: Status
  public var ManagerStatus: ManagerStatus?

  public struct NodeSpec: Codable, Sendable, Equatable {
    public var Labels: [String: String]?
    public var Role: String
    public var Availability: String
  }

  public struct Description: Codable, Sendable, Equatable {
    public var Hostname: String?
  }

  public struct Status: Codable, Sendable, Equatable {
    public var State: String
    public var Addr: String?
  }

  public struct ManagerStatus: Codable, Sendable, Equatable {
    public var Leader: Bool?
    public var Reachability: String?
    public var Addr: String?
  }
}

public struct EngineErrorBody: Codable, Sendable {
  public var message: String
}

public struct SwarmTask: Codable, Sendable, Equatable {
  public var ID: String
  public var NodeID: String?
  public var DesiredState: String?
  public var Status: TaskStatus

  public struct TaskStatus: Codable, Sendable, Equatable {
    public var State: String
  }
}
