import Yams

/// The `registry:` section: the head's pull-through cache and private registry.
///
///     registry: true                  # or false; or a mapping:
///     registry:
///       enabled: true                 # default true once the section is there
///       data: /srv/registry           # default: the state directory's registry/data
///       port: 5000                    # the private registry (HEAD:5000/app)
///       cache: true                   # false: no pull-through cache (a head without internet)
///       cache_port: 5001              # the pull-through cache
///       upstream: https://registry-1.docker.io
///
/// Without the section the registry is on when the cluster asks for it: a `stacks:` section
/// (its contents are read elsewhere: here only whether it is there), or `head` in
/// docker.registry_mirrors.
extension ClusterReader {
  mutating func registry(_ top: [String: Entry]) -> RegistrySettings {
    var settings = RegistrySettings()
    let asked = top["stacks"] != nil || headMirror != nil
    guard let entry = top["registry"], !isNull(entry.value) else {
      settings.enabled = asked
      return settings
    }
    if let scalar = entry.value.scalar {
      switch scalar.string {
      case "true": settings.enabled = true
      case "false": settings.enabled = false
      default:
        error(
          entry.value,
          "registry \"\(scalar.string.terminalSafe)\" must be true, false or a mapping with keys \(Self.registryKeys.joined(separator: ", "))"
        )
      }
    } else if let fields = mapping(entry.value, "registry", keys: Self.registryKeys) {
      settings.enabled = true
      if let enabled = fields["enabled"], let raw = text(enabled.value, "registry.enabled") {
        switch raw {
        case "true": settings.enabled = true
        case "false": settings.enabled = false
        default: error(enabled.value, "registry.enabled \"\(raw.terminalSafe)\" must be true or false")
        }
      }
      if let data = path(fields["data"], "registry.data", example: "/srv/piswarm-registry", folder: true) {
        settings.data = HeadPath.normalized(data)
      }
      settings.port = port(fields["port"], "registry.port", default: RegistrySettings.defaultPort)
      settings.cachePort = port(fields["cache_port"], "registry.cache_port", default: RegistrySettings.defaultCachePort)
      if settings.port == settings.cachePort, let node = fields["cache_port"]?.value ?? fields["port"]?.value {
        error(
          node,
          "registry.port and registry.cache_port are both \(settings.port): the cache and the private registry are two "
            + "services and need a port each, e.g. port: \(RegistrySettings.defaultPort) and cache_port: \(RegistrySettings.defaultCachePort)"
        )
      }
      if let cache = fields["cache"], let raw = text(cache.value, "registry.cache") {
        switch raw {
        case "true": settings.cache = true
        case "false": settings.cache = false
        default:
          error(
            cache.value,
            "registry.cache \"\(raw.terminalSafe)\" must be true or false (false: the head runs only the private registry, "
              + "e.g. when it has no internet)")
        }
      }
      if let upstream = fields["upstream"], let raw = text(upstream.value, "registry.upstream") {
        if Self.isMirrorURL(raw) {
          settings.upstream = raw.hasSuffix("/") ? String(raw.dropLast()) : raw
        } else {
          error(
            upstream.value,
            "registry.upstream \"\(raw.terminalSafe)\" must be an http:// or https:// URL without spaces, e.g. \(RegistrySettings.defaultUpstream)"
          )
        }
      }
    }
    if !settings.enabled, let headMirror {
      error(
        headMirror,
        "docker.registry_mirrors names head, the head's cache, but registry: turns the head's registry off; "
          + "remove head from the mirrors or turn the registry on")
    }
    if settings.enabled, !settings.cache, let headMirror {
      error(
        headMirror,
        "docker.registry_mirrors names head, the head's cache, but registry.cache is false; "
          + "remove head from the mirrors or set registry.cache: true")
    }
    return settings
  }

  /// A TCP port, 1 to 65535; `fallback` when absent or wrong (after an error).
  mutating func port(_ entry: Entry?, _ what: String, default fallback: Int) -> Int {
    guard let entry, let raw = text(entry.value, what) else { return fallback }
    guard let port = Int(raw), (1...65535).contains(port) else {
      error(entry.value, "\(what) \"\(raw.terminalSafe)\" must be a port number from 1 to 65535, e.g. \(fallback)")
      return fallback
    }
    return port
  }
}
