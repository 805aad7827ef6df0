/* STREAM's four kernels (McCalpin), written for `orchestra bench isolation`: copy, scale, add
 * and triad over three arrays of doubles much larger than any cache; prints each kernel's best
 * rate in MB/s (10^6 bytes), counted as STREAM counts them. Built on the host as a static
 * binary (no libraries), so the same file runs on the host, in a VM and in containers.
 *
 *   stream ELEMENTS TIMES
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: stream ELEMENTS TIMES\n");
        return 2;
    }
    long n = atol(argv[1]);
    int times = atoi(argv[2]);
    if (n < 1000 || times < 1) {
        fprintf(stderr, "stream: ELEMENTS must be >= 1000 and TIMES >= 1\n");
        return 2;
    }
    double *a = malloc(n * sizeof(double)), *b = malloc(n * sizeof(double)), *c = malloc(n * sizeof(double));
    if (!a || !b || !c) {
        fprintf(stderr, "stream: cannot allocate 3 x %ld doubles\n", n);
        return 1;
    }
    for (long j = 0; j < n; j++) { a[j] = 1.0; b[j] = 2.0; c[j] = 0.0; }
    const double q = 3.0;
    const char *names[4] = {"copy", "scale", "add", "triad"};
    const double bytes[4] = {2.0 * sizeof(double) * n, 2.0 * sizeof(double) * n,
                             3.0 * sizeof(double) * n, 3.0 * sizeof(double) * n};
    double best[4] = {1e30, 1e30, 1e30, 1e30};
    for (int k = 0; k < times; k++) {
        double t[5];
        t[0] = now();
        for (long j = 0; j < n; j++) c[j] = a[j];
        t[1] = now();
        for (long j = 0; j < n; j++) b[j] = q * c[j];
        t[2] = now();
        for (long j = 0; j < n; j++) c[j] = a[j] + b[j];
        t[3] = now();
        for (long j = 0; j < n; j++) a[j] = b[j] + q * c[j];
        t[4] = now();
        for (int i = 0; i < 4; i++)
            if (t[i + 1] - t[i] < best[i]) best[i] = t[i + 1] - t[i];
    }
    double check = 0;
    for (long j = 0; j < n; j += n / 1000) check += a[j] + b[j] + c[j];
    for (int i = 0; i < 4; i++)
        printf("%s %.1f\n", names[i], bytes[i] / best[i] / 1e6);
    printf("checksum %.6g\n", check);
    return 0;
}
