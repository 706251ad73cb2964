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

/* At most `arenas` malloc arenas (glibc's default, 8 per core, lets every thread keep its own heap, and freed
   memory then stays resident in arenas nobody uses), and a fixed mmap threshold: a large block (a snapshot, a big
   status answer) always gets its own mapping, which goes back to the system when it is freed. glibc's default
   threshold rises to the largest block freed so far, after which such blocks come from the heap and stay. */
static inline void andond_tune_malloc(int arenas, int mmap_threshold) {
    mallopt(M_ARENA_MAX, arenas);
    mallopt(M_MMAP_THRESHOLD, mmap_threshold);
}

#endif
