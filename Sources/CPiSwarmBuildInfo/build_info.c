#include "CPiSwarmBuildInfo.h"

// Keep equal to the VERSION file (a unit test checks).
__attribute__((weak)) const char *piswarm_build_version(void) { return "0.1.0"; }
__attribute__((weak)) const char *piswarm_build_commit(void) { return ""; }
