/* replay_main: runs a libFuzzer harness over saved inputs without the fuzzing
 * engine, so that a sanitizer build can check the corpus and past crashes.
 *
 * Usage: fuzz_X-replay PATH...  where each PATH is a file, or a directory whose
 * regular files (not recursing) are each one input. Every input is passed once to
 * LLVMFuzzerTestOneInput in a buffer of exactly its size, so that AddressSanitizer
 * sees any read past it. Prints "replayed N inputs" and exits 0; a harness
 * invariant or a sanitizer aborts the process instead. A path that cannot be read
 * makes it exit 1 after the other paths have run.
 *
 * Shared by every harness: it knows nothing of the code under test.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a harness, as with libFuzzer. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Reads the whole file into a buffer of its exact size (1 byte if empty, since
 * malloc(0) may return NULL). Returns NULL and prints why on failure. */
static uint8_t *replay_read(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data = NULL;
    struct stat st;

    if (f == NULL || fstat(fileno(f), &st) != 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        goto out;
    }
    *size = (size_t)st.st_size;
    data = malloc(*size ? *size : 1);
    if (data == NULL) {
        fprintf(stderr, "replay: %s: out of memory\n", path);
        goto out;
    }
    if (fread(data, 1, *size, f) != *size) {
        fprintf(stderr, "replay: %s: short read\n", path);
        free(data);
        data = NULL;
    }
out:
    if (f != NULL)
        fclose(f);
    return data;
}

/* Runs one input file; returns 1 if it ran, 0 if it could not be read. */
static int replay_file(const char *path)
{
    size_t size = 0;
    uint8_t *data = replay_read(path, &size);

    if (data == NULL)
        return 0;
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    return 1;
}

/* Runs every regular file in dir, adding to *ran; returns 0 if any failed. */
static int replay_dir(const char *dir, unsigned long *ran)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int ok = 1;

    if (d == NULL) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return 0;
    }
    while ((e = readdir(d)) != NULL) {
        char *path;
        struct stat st;

        if (asprintf(&path, "%s/%s", dir, e->d_name) < 0) {
            fprintf(stderr, "replay: out of memory\n");
            abort();
        }
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (replay_file(path))
                (*ran)++;
            else
                ok = 0;
        }
        free(path);
    }
    closedir(d);
    return ok;
}

int main(int argc, char **argv)
{
    unsigned long ran = 0;
    int ok = 1;

    if (LLVMFuzzerInitialize != NULL)
        LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        struct stat st;

        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
            ok &= replay_dir(argv[i], &ran);
        else if (replay_file(argv[i]))
            ran++;
        else
            ok = 0;
    }
    printf("replayed %lu inputs\n", ran);
    return ok ? 0 : 1;
}
