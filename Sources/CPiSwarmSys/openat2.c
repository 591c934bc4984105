#define _GNU_SOURCE
#include "CPiSwarmSys.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#else
struct open_how {
  uint64_t flags;
  uint64_t mode;
  uint64_t resolve;
};
#endif

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

_Static_assert(PISWARM_RESOLVE_IN_ROOT == 0x10, "RESOLVE_IN_ROOT");
_Static_assert(PISWARM_O_PATH == O_PATH, "O_PATH");
#ifdef RESOLVE_IN_ROOT
_Static_assert(PISWARM_RESOLVE_IN_ROOT == RESOLVE_IN_ROOT, "RESOLVE_IN_ROOT");
_Static_assert(PISWARM_RESOLVE_NO_MAGICLINKS == RESOLVE_NO_MAGICLINKS, "RESOLVE_NO_MAGICLINKS");
_Static_assert(PISWARM_RESOLVE_NO_XDEV == RESOLVE_NO_XDEV, "RESOLVE_NO_XDEV");
#endif

int piswarm_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve) {
  struct open_how how = {.flags = flags, .mode = mode, .resolve = resolve};
  return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}
