// A flooding UDP source for the flood benchmark: sends one datagram after another from 127.0.0.1 at RATE per second
// (paced per millisecond, in batches with sendmmsg) for SECONDS, and reads nothing.
//
//   flood PORT RATE SECONDS     prints: sent, seconds, the rate reached
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: flood PORT RATE SECONDS\n"); return 64; }
    int port = atoi(argv[1]);
    double rate = atof(argv[2]), seconds = atof(argv[3]);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int size = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    enum { batch = 64 };
    // A valid signal: what matters is that it is over budget, not that it is malformed.
    static const char message[] = "andon line=B1 station=FLOOD category=help";
    struct iovec iov[batch];
    struct mmsghdr messages[batch];
    memset(messages, 0, sizeof messages);
    for (int i = 0; i < batch; i++) {
        iov[i].iov_base = (void *)message;
        iov[i].iov_len = sizeof message - 1;
        messages[i].msg_hdr.msg_iov = &iov[i];
        messages[i].msg_hdr.msg_iovlen = 1;
        messages[i].msg_hdr.msg_name = &address;
        messages[i].msg_hdr.msg_namelen = sizeof address;
    }
    double start = now(), end = start + seconds;
    long sent = 0;
    while (now() < end) {
        long due = (long)((now() - start) * rate);
        // Behind the pace (a rate the machine cannot reach), it sends as fast as it can, until the end all the same.
        while (sent < due && now() < end) {
            int n = sendmmsg(fd, messages, (unsigned)(due - sent < batch ? due - sent : batch), 0);
            if (n <= 0) break;
            sent += n;
        }
        struct timespec pause = {.tv_sec = 0, .tv_nsec = 200000};
        nanosleep(&pause, NULL);
    }
    double elapsed = now() - start;
    printf("sent %ld seconds %.2f rate %.0f\n", sent, elapsed, sent / elapsed);
    return 0;
}
