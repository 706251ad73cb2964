// A paced UDP line controller for the benchmarks: sends unique andon signals at RATE per second for SECONDS, from one
// socket, and reads the replies as they come, timing each by its seq (send to reply).
//
//   sender PORT RATE SECONDS PREFIX [LINES]    prints: sent, replies (ok), and the reply time p50/p99/max in ms
//   SENDER_SOURCE=127.0.0.2 sender ...          sends from that loopback address
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
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

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double *sent_at;
static double *rtt;
static long replies = 0, oks = 0;

static void drain(int fd) {
    char buffer[2048];
    for (;;) {
        ssize_t n = recv(fd, buffer, sizeof buffer - 1, MSG_DONTWAIT);
        if (n <= 0) return;
        buffer[n] = 0;
        char *seq = strstr(buffer, " seq=");
        if (!seq) continue;
        long index = atol(seq + 5);
        if (strncmp(buffer, "ok ", 3) == 0) oks++;
        if (index >= 0 && sent_at[index] > 0 && rtt[index] == 0) {
            rtt[index] = (now() - sent_at[index]) * 1000;
            replies++;
        }
    }
}

int main(int argc, char **argv) {
    if (argc < 5) { fprintf(stderr, "usage: sender PORT RATE SECONDS PREFIX [LINES]\n"); return 64; }
    int port = atoi(argv[1]);
    double rate = atof(argv[2]), seconds = atof(argv[3]);
    const char *prefix = argv[4];
    int lines = argc > 5 ? atoi(argv[5]) : 40;
    long total = (long)(rate * seconds);
    sent_at = calloc(total + 1, sizeof(double));
    rtt = calloc(total + 1, sizeof(double));
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int size = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
    const char *source = getenv("SENDER_SOURCE");
    if (source) {
        struct sockaddr_in from = {.sin_family = AF_INET};
        from.sin_addr.s_addr = inet_addr(source);
        if (bind(fd, (struct sockaddr *)&from, sizeof from) != 0) { perror("bind SENDER_SOURCE"); return 1; }
    }
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    double start = now();
    char message[256];
    for (long i = 0; i < total; i++) {
        double due = start + i / rate;
        // Wait for the next send without spinning (a real controller sleeps), reading replies as they come.
        for (double left; (left = due - now()) > 0;) {
            struct pollfd wait = {.fd = fd, .events = POLLIN};
            struct timespec timeout = {.tv_sec = 0, .tv_nsec = (long)(left * 1e9)};
            if (ppoll(&wait, 1, &timeout, NULL) > 0) drain(fd);
        }
        int n = snprintf(message, sizeof message, "andon line=B%ld station=%s-%ld category=help seq=%ld",
                         i % lines + 1, prefix, i, i);
        sent_at[i] = now();
        if (sendto(fd, message, n, 0, (struct sockaddr *)&address, sizeof address) != n) sent_at[i] = 0;
    }
    double end = now() + 2;
    while (now() < end && replies < total) {
        struct pollfd wait = {.fd = fd, .events = POLLIN};
        if (poll(&wait, 1, 10) > 0) drain(fd);
    }
    double *times = malloc((replies + 1) * sizeof(double));
    long k = 0;
    for (long i = 0; i < total; i++)
        if (rtt[i] > 0) times[k++] = rtt[i];
    qsort(times, k, sizeof(double), compare);
    printf("sent %ld replies %ld ok %ld", total, replies, oks);
    if (k > 0) printf(" p50 %.3f p99 %.3f max %.3f", times[k / 2], times[(long)(k * 0.99)], times[k - 1]);
    long slow = 0, first_slow = -1, last_slow = -1;
    for (long i = 0; i < total; i++)
        if (rtt[i] > 10) { slow++; if (first_slow < 0) first_slow = i; last_slow = i; }
    printf(" elapsed %.2f over10ms %ld first %ld last %ld\n", now() - start, slow, first_slow, last_slow);
    return 0;
}
