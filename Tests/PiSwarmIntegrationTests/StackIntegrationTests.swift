import Foundation
import PiSwarmCore
import PiSwarmSystem
import PiSwarmTestSupport
import Testing

/// `piswarm stack …` and `stacks:` in `up` on a real lab swarm. No registry is reachable here:
/// the services run the lab's own image (`piswarm/base`, imported on every node from a
/// busybox-static root when the lab starts), deployed with `--resolve-image never`.
@Suite(.serialized, .enabled(if: Prerequisites.shouldRun)) struct StackIntegrationTests {
  typealias Lab = LabIntegrationTests.Lab

  /// web ×4 on the nodes labelled tier=web, agent on every node: the stack bench/stack.sh deploys.
  static var compose: String {
    let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../bench/stack-compose.yml")
    return (try? String(contentsOf: file.standardizedFileURL, encoding: .utf8)) ?? ""
  }

  func json(_ output: Command.Output) -> Any? { try? JSONSerialization.jsonObject(with: output.stdout) }

  /// `stack ps NAME --json`'s rows as (service, node, state).
  func tasks(_ lab: Lab, _ file: String, _ stack: String) throws -> [(service: String, node: String, state: String)] {
    let ps = try lab.piswarm(["--file", file, "stack", "ps", stack, "--json"])
    let rows = json(ps) as? [[String: Any]] ?? []
    return rows.map { ($0["service"] as? String ?? "", $0["node"] as? String ?? "", $0["state"] as? String ?? "") }
  }

  @Test func aComposeStackConvergesMovesOffADrainedNodeAndABrokenFileDeploysNothingThenUpKeepsStacks() throws {
    guard Prerequisites.require() else { return }
    let lab = Lab()
    defer { lab.down() }
    let file = try lab.up(nodes: 5, managers: 3)
    let folder = (file as NSString).deletingLastPathComponent
    // Every node but node01 may run the web replicas.
    var text = try String(contentsOfFile: file, encoding: .utf8)
    for node in ["node02", "node03", "node04", "node05"] {
      text = text.replacingOccurrences(of: "  - name: \(node)\n", with: "  - name: \(node)\n    labels: { tier: web }\n")
    }
    try text.write(toFile: file, atomically: true, encoding: .utf8)
    let up = try lab.piswarm(["--file", file, "up"])
    try #require(up.status == 0, "\(up.stderrText)")
    let compose = folder + "/demo.yml"
    try #require(Self.compose.contains("replicas: 4"), "bench/stack-compose.yml is missing")
    try Self.compose.write(toFile: compose, atomically: true, encoding: .utf8)
    let ip = "10.231.\(SwarmIntegrationTests().index(of: lab)).11"

    // Deployed, and every task runs: web ×4 on labelled nodes only, agent on all 5.
    let deploy = try lab.piswarm(["--file", file, "stack", "deploy", "demo", "-c", compose, "--resolve-image", "never", "--json"])
    #expect(deploy.status == 0, "\(deploy.stderrText)")
    let report = json(deploy) as? [String: Any] ?? [:]
    #expect(report["changed"] as? Bool == true, "\(deploy.stdoutText)")
    let services = report["services"] as? [[String: Any]] ?? []
    #expect(services.count == 2 && services.allSatisfy { $0["state"] as? String == "converged" }, "\(deploy.stdoutText)")
    #expect(services.first { $0["service"] as? String == "web" }?["running"] as? Int == 4)
    #expect(services.first { $0["service"] as? String == "agent" }?["running"] as? Int == 5)
    var running = try tasks(lab, file, "demo")
    #expect(running.count == 9 && running.allSatisfy { $0.state == "running" }, "\(running)")
    #expect(running.filter { $0.service == "demo_web" }.allSatisfy { $0.node != "node01" }, "\(running)")
    #expect(Set(running.filter { $0.service == "demo_agent" }.map(\.node)).count == 5)
    let listed = json(try lab.piswarm(["--file", file, "stack", "ls", "--json"])) as? [[String: Any]] ?? []
    #expect(listed.first { $0["name"] as? String == "demo" }?["running"] as? Int == 9, "\(listed)")

    // A node drained: its tasks move; deploying again changes nothing.
    let version = try lab.ssh(ip, "docker service inspect demo_web --format '{{.Version.Index}}'").stdoutText
    #expect(try lab.piswarm(["--file", file, "swarm", "drain", "node04"]).status == 0)
    let moved = Deadline(in: 60)
    repeat {
      running = try tasks(lab, file, "demo")
      if running.count == 8 && running.allSatisfy({ $0.state == "running" && $0.node != "node04" }) { break }
      usleep(500_000)
    } while !moved.hasPassed
    #expect(running.count == 8 && running.allSatisfy { $0.state == "running" && $0.node != "node04" }, "\(running)")
    #expect(running.filter { $0.service == "demo_web" }.count == 4)
    let again = try lab.piswarm(["--file", file, "stack", "deploy", "demo", "-c", compose, "--resolve-image", "never", "--json"])
    #expect(again.status == 0, "\(again.stderrText)")
    #expect((json(again) as? [String: Any])?["changed"] as? Bool == false, "\(again.stdoutText)")
    #expect(again.stderrText.contains("no change"), "\(again.stderrText)")
    #expect(try lab.ssh(ip, "docker service inspect demo_web --format '{{.Version.Index}}'").stdoutText == version)

    // Broken files: the error names the file and line; nothing is deployed or changed.
    let broken = folder + "/broken.yml"
    try "version: \"3.8\"\nservices:\n  web:\n    image: x\n   bad: [\n".write(toFile: broken, atomically: true, encoding: .utf8)
    let syntax = try lab.piswarm(["--file", file, "stack", "deploy", "demo", "-c", compose, "-c", broken])
    #expect(syntax.status == 64)
    #expect(syntax.stderrText.contains("\(broken):5:4: malformed YAML"), "\(syntax.stderrText)")
    let schema = folder + "/schema.yml"
    try
      "version: \"3.8\"\nservices:\n  api:\n    image: piswarm/base:latest\n    deploy:\n      replicaz: 3\nnetworks:\n  back: {}\n"
      .write(toFile: schema, atomically: true, encoding: .utf8)
    let invalid = try lab.piswarm(["--file", file, "stack", "deploy", "bad", "-c", schema])
    #expect(invalid.status == 64)
    #expect(
      invalid.stderrText.contains("\(schema):6:7: services.api.deploy Additional property replicaz is not allowed"),
      "\(invalid.stderrText)")
    #expect(try lab.ssh(ip, "docker service ls --format '{{.Name}}' | sort").stdoutText == "demo_agent\ndemo_web\n")
    #expect(try lab.ssh(ip, "docker network ls --format '{{.Name}}' | grep -c '^bad_' || true").stdoutText == "0\n")
    #expect(try lab.ssh(ip, "docker service inspect demo_web --format '{{.Version.Index}}'").stdoutText == version)

    // Removed.
    let removed = try lab.piswarm(["--file", file, "stack", "rm", "demo"])
    #expect(removed.status == 0, "\(removed.stderrText)")
    #expect(try lab.ssh(ip, "docker service ls -q | wc -l").stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "0")

    // stacks: in cluster.yml: plan shows the deploy, up does it, and a second up plans nothing.
    // (stacks: turns the head's registry on by default; its cache needs Docker Hub, which this
    // machine cannot reach: RegistryIntegrationTests and the journey test cover it, with an
    // upstream inside the lab.)
    try (String(contentsOfFile: file, encoding: .utf8) + "registry: false\nstacks:\n  demo: [demo.yml]\n").write(
      toFile: file, atomically: true, encoding: .utf8)
    let plan = try lab.piswarm(["--file", file, "plan", "--json"])
    let planned = (json(plan) as? [[String: Any]] ?? []).compactMap { $0["action"] as? String }
    #expect(planned == ["deploy stack demo"], "\(plan.stdoutText)\(plan.stderrText)")
    let stacked = try lab.piswarm(["--file", file, "up", "--resolve-image", "never", "--json"])
    #expect(stacked.status == 0, "\(stacked.stderrText)")
    let outcome = json(stacked) as? [[String: Any]] ?? []
    #expect(
      outcome.contains { $0["action"] as? String == "deploy stack demo" && $0["status"] as? String == "done" }, "\(outcome)")
    running = try tasks(lab, file, "demo")
    #expect(running.count == 8 && running.allSatisfy { $0.state == "running" }, "\(running)")
    let calm = try lab.piswarm(["--file", file, "plan", "--json"])
    #expect((json(calm) as? [[String: Any]] ?? []).compactMap { $0["action"] as? String }.isEmpty, "\(calm.stdoutText)")
    let second = try lab.piswarm(["--file", file, "up", "--resolve-image", "never"])
    #expect(second.status == 0)
    #expect(second.stderrText.contains("no changes"), "\(second.stderrText)")
    // A compose file of stacks: broken: plan and up say so with its line, and change nothing.
    try "version: \"3.8\"\nservices:\n  web:\n    image: x\n   bad: [\n".write(toFile: compose, atomically: true, encoding: .utf8)
    let refused = try lab.piswarm(["--file", file, "up", "--resolve-image", "never"])
    #expect(refused.status == 1)
    #expect(refused.stderrText.contains("\(compose):5:4: malformed YAML"), "\(refused.stderrText)")
    #expect(try lab.ssh(ip, "docker service inspect demo_web --format '{{.Spec.Mode.Replicated.Replicas}}'").stdoutText == "4\n")
  }

  @Test func portainerIsDeployedWithItsModesPlacementMountsAndSecretThoughItsImagesCannotBePulled() throws {
    guard Prerequisites.require() else { return }
    let lab = Lab()
    defer { lab.down() }
    let file = try lab.up(nodes: 3, managers: 1)
    let up = try lab.piswarm(["--file", file, "up"])
    try #require(up.status == 0, "\(up.stderrText)")
    let ip = "10.231.\(SwarmIntegrationTests().index(of: lab)).11"
    let password = "portainer-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
    let passwordFile = lab.state.path + "/admin-password"
    try (password + "\n").write(toFile: passwordFile, atomically: true, encoding: .utf8)

    // Portainer's images are on Docker Hub, which this machine cannot reach: the services are
    // created and their tasks are rejected ("No such image"); --detach does not wait for them.
    let deploy = try lab.piswarm([
      "--file", file, "stack", "deploy", "portainer", "--admin-password-file", passwordFile, "--resolve-image", "never",
      "--detach", "--json",
    ])
    #expect(deploy.status == 0, "\(deploy.stderrText)")
    #expect(!deploy.stdoutText.contains(password) && !deploy.stderrText.contains(password), "the password was printed")
    func inspect(_ service: String, _ format: String) throws -> String {
      try lab.ssh(ip, "docker service inspect \(service) --format '\(format)'").stdoutText
        .trimmingCharacters(in: .whitespacesAndNewlines)
    }
    #expect(try inspect("portainer_agent", "{{json .Spec.Mode}}") == "{\"Global\":{}}")
    #expect(try inspect("portainer_agent", "{{.Spec.TaskTemplate.ContainerSpec.Image}}") == Portainer.agentImage)
    let agentMounts = try inspect("portainer_agent", "{{range .Spec.TaskTemplate.ContainerSpec.Mounts}}{{.Source}} {{end}}")
    #expect(Set(agentMounts.split(separator: " ")) == ["/var/run/docker.sock", "/var/lib/docker/volumes"], "\(agentMounts)")
    #expect(try inspect("portainer_server", "{{json .Spec.Mode}}") == "{\"Replicated\":{\"Replicas\":1}}")
    #expect(try inspect("portainer_server", "{{.Spec.TaskTemplate.ContainerSpec.Image}}") == Portainer.serverImage)
    #expect(
      try inspect("portainer_server", "{{json .Spec.TaskTemplate.Placement.Constraints}}")
        == "[\"node.role == manager\",\"node.labels.io.piswarm.portainer == true\"]")
    #expect(
      try inspect("portainer_server", "{{range .Spec.TaskTemplate.ContainerSpec.Mounts}}{{.Type}} {{.Source}} {{.Target}}{{end}}")
        == "volume portainer_data /data")
    #expect(
      try inspect("portainer_server", "{{range .Spec.TaskTemplate.ContainerSpec.Secrets}}{{.File.Name}} {{.SecretName}}{{end}}")
        .hasPrefix("portainer_admin_password portainer_admin_password_"))
    #expect(try inspect("portainer_server", "{{json .Spec.TaskTemplate.ContainerSpec.Args}}").contains("--admin-password-file"))
    // The label that keeps the server (and its data) on one manager.
    #expect(
      try lab.ssh(ip, "docker node inspect node01 --format '{{index .Spec.Labels \"io.piswarm.portainer\"}}'").stdoutText
        == "true\n")
    // The password is in piswarm's secrets (0600) and nowhere else on the head.
    #expect(try String(contentsOfFile: lab.state.path + "/secrets", encoding: .utf8).contains(password))
    #expect(!FileManager.default.fileExists(atPath: lab.state.path + "/stacks/portainer/admin-password"))
    // The tasks cannot run, and say why.
    let rejected = Deadline(in: 30)
    var shown = ""
    repeat {
      shown = try lab.piswarm(["--file", file, "stack", "ps", "portainer", "--all"]).stdoutText
      if shown.contains("No such image: \(Portainer.serverImage)") { break }
      usleep(500_000)
    } while !rejected.hasPassed
    #expect(shown.contains("No such image: \(Portainer.serverImage)"), "\(shown)")
  }
}
