// swift-format-ignore-file: AlwaysUseLowerCamelCase

// The properties mirror the Engine API's JSON names (ID, ServerVersion, …) so that the models decode
// and encode without a key map to get wrong; label keys inside them must never be case-converted.
import Foundation
import PiSwarmCore

public struct SwarmInfo: Codable, Sendable, Equatable {
  public var LocalNodeState: LocalSwarm.State
  public var NodeID: String?
  public var NodeAddr: String?
  public var ControlAvailable: Bool?
  public var Cluster: ClusterInfo?
  public var RemoteManagers: [Peer]?
  /// Why the node's swarm part stopped (state `error`), e.g. a join that could not get its
  /// certificate.
  public var Error: String?

  public struct ClusterInfo: Codable, Sendable, Equatable {
    public var ID: String
  }

  public struct Peer: Codable, Sendable, Equatable {
    public var NodeID: String
    public var Addr: String
  }
}
