// openat2(2) for Swift: glibc 2.36 (Debian 12) has no wrapper, and Swift cannot call the
// variadic syscall(2). pipe2(2), setns(2) and posix_spawn's chdir action and new-session flag, which Swift's
// Glibc module leaves out (they need _GNU_SOURCE). The functions and the constants they need;
// nothing else.
#ifndef CPISWARMSYS_H
#define CPISWARMSYS_H

#include <spawn.h>
#include <stdint.h>

// RESOLVE_* of linux/openat2.h, under names of our own so that they never clash with a header
// that defines them.
#define PISWARM_RESOLVE_NO_XDEV 0x01
#define PISWARM_RESOLVE_NO_MAGICLINKS 0x02
#define PISWARM_RESOLVE_NO_SYMLINKS 0x04
#define PISWARM_RESOLVE_BENEATH 0x08
#define PISWARM_RESOLVE_IN_ROOT 0x10

// O_PATH, which Swift's Glibc module leaves out (it needs _GNU_SOURCE); checked in openat2.c.
#define PISWARM_O_PATH 010000000

/// openat2(dirfd, path, {flags, mode, resolve}): a file descriptor, or -1 with errno set
/// (ENOSYS on kernels before 5.6).
int piswarm_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve);

/// pipe2(fds, O_CLOEXEC): both ends close-on-exec from the start, so that no process started
/// meanwhile by another thread inherits them. 0, or -1 with errno set.
int piswarm_pipe_cloexec(int fds[2]);

/// POSIX_SPAWN_SETSID (glibc 2.26+): the child starts a session (and process group) of its own;
/// checked against glibc's value in spawn.c.
#define PISWARM_POSIX_SPAWN_SETSID 0x80

/// posix_spawn_file_actions_addchdir_np (glibc 2.29+): the child changes to `path` before it
/// execs. 0, or an error number.
int piswarm_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path);

/// Makes `target` (an empty file open for writing) a copy of `source`: a reflink (FICLONE)
/// where the filesystem shares extents, else copy_file_range(2). 0, or -1 with errno set.
int piswarm_clone_file(int source, int target);

/// setns(fd, CLONE_NEWNET): the calling thread enters the network namespace open at `fd` (a
/// socket made afterwards stays in it). 0, or -1 with errno set.
int piswarm_setns_net(int fd);

/// The MAC of interface `name` in the calling thread's network namespace (SIOCGIFHWADDR).
/// 0, or -1 with errno set.
int piswarm_interface_mac(const char *name, uint8_t mac[6]);

/// Sets interface `name`'s IPv4 address and netmask (host byte order) in the calling thread's
/// network namespace (SIOCSIFADDR, SIOCSIFNETMASK; `ip addr replace` on an interface with no
/// address). 0, or -1 with errno set.
int piswarm_interface_set_ipv4(const char *name, uint32_t address, uint32_t mask);

#endif
