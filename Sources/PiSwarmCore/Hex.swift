/// Two lowercase hex digits for a byte (MAC addresses, DUIDs).
func hex2(_ byte: UInt8) -> String {
  let digits = Array("0123456789abcdef")
  return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
}
