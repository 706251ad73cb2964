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
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <sys/syscall.h>

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

/* A descriptor to read the signals of `set` from (the caller blocks them first), for a poll loop. */
static inline int andond_signalfd(const sigset_t *set) { return signalfd(-1, set, SFD_CLOEXEC); }

/* The number of the next signal read from such a descriptor, or -1. */
static inline int andond_read_signal(int fd) {
    struct signalfd_siginfo info;
    return read(fd, &info, sizeof info) == (ssize_t)sizeof info ? (int)info.ssi_signo : -1;
}

/* struct mmsghdr and recvmmsg(2) without _GNU_SOURCE (which clashes with SwiftGlibc): the kernel's layout, and the
   system call itself. Reads up to `count` datagrams without waiting; the number read, or -1 with errno. Each
   msg_len is the datagram's real length (MSG_TRUNC), which may exceed its buffer. */
struct andond_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
};

static inline int andond_recvmmsg(int fd, struct andond_mmsghdr *messages, unsigned int count) {
    /* MSG_TRUNC: each msg_len is the datagram's real length, even when it was cut to its buffer. */
    return (int)syscall(SYS_recvmmsg, fd, messages, count, MSG_DONTWAIT | MSG_TRUNC, (void *)0);
}
#endif
