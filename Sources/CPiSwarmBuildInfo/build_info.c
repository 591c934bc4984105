// The functions are inline in the header; SwiftPM wants one source file in a C target.
#include "CPiSwarmBuildInfo.h"
