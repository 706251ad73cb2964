// libsystemd for Swift: the journal and sd-daemon APIs, plus small helpers for what Swift cannot call directly.
// No _GNU_SOURCE here: it clashes with SwiftGlibc's fd_set (see the project notes); struct ucred is mirrored in Swift.
#ifndef ANDOND_CSYSTEMD_SHIM_H
#define ANDOND_CSYSTEMD_SHIM_H

#include <malloc.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <pwd.h>
#include <errno.h>

/* Gives memory that was freed back to the system (after a large answer or a snapshot). */
static inline int andond_malloc_trim(void) { return malloc_trim(0); }

#endif
