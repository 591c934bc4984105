// What this binary was built from. build_info.c defines both functions weakly, with the values of
// a plain `swift build` (the version, no commit); `make deb` links in an object of its own that
// defines them strongly with the version and commit it builds (scripts/make-deb.sh), so a new
// commit costs one relink, not a rebuild.
#ifndef CPISWARM_BUILD_INFO_H
#define CPISWARM_BUILD_INFO_H

/// The version, as in the VERSION file.
const char *piswarm_build_version(void);
/// The commit (12 hex digits, "-dirty" when the tree had changes); empty when not known.
const char *piswarm_build_commit(void);

#endif
