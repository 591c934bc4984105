import PiSwarmCommands

PiSwarm.main(LeadingOptions.apply(Array(CommandLine.arguments.dropFirst())))
