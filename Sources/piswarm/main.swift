import PiSwarmCommands

Startup.prepareProcess()
PiSwarm.main()
