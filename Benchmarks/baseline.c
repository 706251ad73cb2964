// The baseline andond is measured against: a plain C loop that reads datagrams with recvmmsg and writes one journal
// entry per datagram with sd_journal_sendv, with about as many fields and bytes as andond's `raised` entry.
// No parsing, no state, no reply, no durability: what the machine and journald allow.
//
//   baseline PORT RUN SECONDS     (exits SECONDS after the first datagram; prints the count it wrote)
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: baseline PORT RUN SECONDS\n"); return 64; }
    int port = atoi(argv[1]);
    const char *run = argv[2];
    double seconds = atof(argv[3]);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int size = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0) { perror("bind"); return 1; }
    printf("ready\n");
    fflush(stdout);
    static char buffers[BATCH][2048];
    struct mmsghdr messages[BATCH];
    struct iovec vectors[BATCH];
    long written = 0;
    double first = 0;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 200) <= 0) {
            if (first > 0 && now() - first > seconds) break;
            continue;
        }
        memset(messages, 0, sizeof messages);
        for (int i = 0; i < BATCH; i++) {
            vectors[i].iov_base = buffers[i];
            vectors[i].iov_len = sizeof buffers[i] - 1;
            messages[i].msg_hdr.msg_iov = &vectors[i];
            messages[i].msg_hdr.msg_iovlen = 1;
        }
        int count = recvmmsg(fd, messages, BATCH, MSG_DONTWAIT, NULL);
        if (count <= 0) continue;
        if (first == 0) first = now();
        for (int i = 0; i < count; i++) {
            buffers[i][messages[i].msg_len] = 0;
            char f[18][160];
            struct iovec iov[18];
            int n = 0;
            snprintf(f[n++], 160, "MESSAGE=Help andon on %.100s: calling team-leader", buffers[i]);
            snprintf(f[n++], 160, "PRIORITY=4");
            snprintf(f[n++], 160, "MESSAGE_ID=58476d10d29440bcaeb1cf5033ff779f");
            snprintf(f[n++], 160, "SYSLOG_IDENTIFIER=andond-baseline");
            snprintf(f[n++], 160, "BENCH_RUN=%s", run);
            snprintf(f[n++], 160, "BENCH_EVENT=raised");
            snprintf(f[n++], 160, "BENCH_INCIDENT=%ld", written + 1);
            snprintf(f[n++], 160, "BENCH_KIND=andon");
            snprintf(f[n++], 160, "BENCH_LINE=B1");
            snprintf(f[n++], 160, "BENCH_STATION=S%ld", written);
            snprintf(f[n++], 160, "BENCH_CATEGORY=help");
            snprintf(f[n++], 160, "BENCH_TIER=team-leader");
            snprintf(f[n++], 160, "BENCH_TIER_NUMBER=1/2");
            snprintf(f[n++], 160, "BENCH_ROTA=team-leader");
            snprintf(f[n++], 160, "BENCH_RESPONDER=bench");
            snprintf(f[n++], 160, "BENCH_SOURCE=127.0.0.1:40000");
            snprintf(f[n++], 160, "BENCH_AT_MS=%ld", (long)(now() * 1000));
            snprintf(f[n++], 160, "BENCH_EVENT_ID=baseline-%ld", written + 1);
            for (int k = 0; k < n; k++) { iov[k].iov_base = f[k]; iov[k].iov_len = strlen(f[k]); }
            if (sd_journal_sendv(iov, n) == 0) written++;
        }
    }
    printf("written %ld\n", written);
    return 0;
}
