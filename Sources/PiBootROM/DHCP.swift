import PiSwarmCore

func put32(_ out: inout [UInt8], _ at: Int, _ value: UInt32) {
  for i in 0..<4 { out[at + i] = UInt8(truncatingIfNeeded: value >> UInt32(24 - 8 * i)) }
}

func get32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
  bytes[at..<(at + 4)].reduce(0) { $0 << 8 | UInt32($1) }
}
