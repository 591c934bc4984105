import PiSwarmCommands

Startup.prepareProcess()
PiSwarm.main(LeadingOptions.apply(Array(CommandLine.arguments.dropFirst())))
