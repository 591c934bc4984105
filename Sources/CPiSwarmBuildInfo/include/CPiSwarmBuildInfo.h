// What this binary was built from. `make deb` passes both (-Xswiftc -Xcc -Xswiftc -D…); a plain `swift build`
// gets the defaults, so it always builds and says it does not know its commit.
#ifndef CPISWARM_BUILD_INFO_H
#define CPISWARM_BUILD_INFO_H

#ifndef PISWARM_BUILD_VERSION
// Keep equal to the VERSION file (a unit test checks).
#define PISWARM_BUILD_VERSION "0.1.0"
#endif

#ifndef PISWARM_BUILD_COMMIT
#define PISWARM_BUILD_COMMIT ""
#endif

static inline const char *piswarm_build_version(void) { return PISWARM_BUILD_VERSION; }
static inline const char *piswarm_build_commit(void) { return PISWARM_BUILD_COMMIT; }

#endif
