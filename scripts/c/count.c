/* The C reference for parlab's `count` kernel: one increment per index, kept from being folded
 * into a closed form by an empty asm statement that claims to modify the counter in a register
 * (the same trick as the Rust kernel). Usage: count N [THREADS]. Prints the total and the
 * seconds the counting took (threads created, run and joined), measured inside the program. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct part { uint64_t start, end, total; };

static void *work(void *arg) {
    struct part *p = arg;
    uint64_t total = 0;
    for (uint64_t i = p->start; i < p->end; i++) {
        total += 1;
        __asm__ volatile("" : "+r"(total));
    }
    p->total = total;
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: count N [THREADS]\n"); return 2; }
    uint64_t n = strtoull(argv[1], NULL, 10);
    int threads = argc > 2 ? atoi(argv[2]) : 0; /* 0: no thread, count on main */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t total = 0;
    if (threads == 0) {
        struct part p = {0, n, 0};
        work(&p);
        total = p.total;
    } else {
        pthread_t tid[256];
        struct part parts[256];
        for (int k = 0; k < threads; k++) {
            /* The seed's formula: start + (end-start)*k/N. */
            parts[k].start = (uint64_t)((unsigned __int128)n * k / threads);
            parts[k].end = (uint64_t)((unsigned __int128)n * (k + 1) / threads);
            pthread_create(&tid[k], NULL, work, &parts[k]);
        }
        for (int k = 0; k < threads; k++) { pthread_join(tid[k], NULL); total += parts[k].total; }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%llu %.9f\n", (unsigned long long)total,
           (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
    return total == n ? 0 : 1;
}
