/// Board models piswarm knows how to boot; `other` for anything else.
public enum BoardModel: String, Sendable, CaseIterable, Codable {
  case pi3b
  case pi3bplus = "pi3b+"
  case pi4
  case pi400
  case cm4
  case pi5
  case pi500
  case cm5
  case zero2w
  case other
}
