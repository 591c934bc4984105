#define _GNU_SOURCE
#include <spawn.h>

#include "CPiSwarmSys.h"

_Static_assert(PISWARM_POSIX_SPAWN_SETSID == POSIX_SPAWN_SETSID, "POSIX_SPAWN_SETSID differs from glibc's");

int piswarm_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
  return posix_spawn_file_actions_addchdir_np(actions, path);
}
