import PiSwarmCommands

PiSwarm.main()
