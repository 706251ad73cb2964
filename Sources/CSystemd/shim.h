// libsystemd for Swift: the journal and sd-daemon APIs, plus small helpers for what Swift cannot call directly.
// No _GNU_SOURCE here: it clashes with SwiftGlibc's fd_set (see the project notes); struct ucred is mirrored in Swift.
#ifndef ANDOND_CSYSTEMD_SHIM_H
#define ANDOND_CSYSTEMD_SHIM_H

#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <pwd.h>
#include <errno.h>

#endif
