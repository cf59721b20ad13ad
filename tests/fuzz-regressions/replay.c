/* replay.c — run inputs through a fuzz harness without libFuzzer.
 *
 * Linked with fuzz/fuzz-ops.c or fuzz/fuzz-scenario.c, this is a program
 * that reads each file named on the command line and hands its bytes to
 * the harness's LLVMFuzzerTestOneInput, as libFuzzer would.  The harness
 * aborts on a bug (a broken invariant, a failing call that changed
 * something, a loader refusal without a position); sanitizers, when the
 * build has them, catch the rest.  So every input that once crashed a
 * fuzzer runs on every `meson test`, with gcc, without clang: it must
 * pass through the harness cleanly (exit 0). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return 1;
    }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf != NULL && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            uint8_t *more = realloc(buf, cap *= 2);
            if (more == NULL)
                free(buf);
            buf = more;
        }
    }
    fclose(f);
    if (buf == NULL) {
        fprintf(stderr, "%s: out of memory\n", path);
        return 1;
    }
    /* Exactly N bytes, as libFuzzer hands them: a sanitizer build sees a
     * read past the end (no NUL is promised after the input). */
    uint8_t *exact = malloc(n > 0 ? n : 1);
    if (exact == NULL) {
        free(buf);
        fprintf(stderr, "%s: out of memory\n", path);
        return 1;
    }
    memcpy(exact, buf, n);
    free(buf);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    printf("%s: %zu bytes, passed\n", path, n);
    return 0;
}

int main(int argc, char **argv)
{
    int bad = 0;
    for (int i = 1; i < argc; i++)
        bad |= replay(argv[i]);
    return bad;
}
