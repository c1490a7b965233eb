/*
 * tests/fuzz_replay.c - the main of a fuzz target built without libFuzzer: runs
 * LLVMFuzzerTestOneInput once on every file of each DIR (sorted by name, so a failure names
 * the same input every time), in the ordinary ASan + UBSan build. The inputs are those that
 * once crashed the target (tests/fuzz-regress/<target>/): each must now run clean, and the
 * sanitizers abort the test if not; and the seeds (tests/fuzz_seeds.c), so that a target that
 * has never crashed still runs here. No input at all fails. usage: fuzz_<target> DIR...
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int replay(const char *path)
{
    FILE *fp = fopen(path, "rb");
    unsigned char *data = NULL;
    long n;

    if (!fp || fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0 ||
        !(data = malloc((size_t)n + 1)) || fread(data, 1, (size_t)n, fp) != (size_t)n) {
        perror(path);
        if (fp)
            fclose(fp);
        free(data);
        return 1;
    }
    fclose(fp);
    printf("fuzz_replay: %s (%ld bytes)\n", path, n);
    fflush(stdout); /* the name is out before any sanitizer report */
    LLVMFuzzerTestOneInput(data, (size_t)n);
    free(data);
    return 0;
}

int main(int argc, char **argv)
{
    int failed = 0, total = 0;

    for (int i = 1; i < argc; i++) {
        struct dirent **names;
        int n = scandir(argv[i], &names, NULL, by_name);
        if (n < 0 && errno == ENOENT) /* a target that has never crashed has no regress/ yet */
            continue;
        if (n < 0) {
            perror(argv[i]);
            return 1;
        }
        for (int k = 0; k < n; k++) {
            char path[4096];
            if (names[k]->d_name[0] != '.') {
                snprintf(path, sizeof path, "%s/%s", argv[i], names[k]->d_name);
                failed |= replay(path);
                total++;
            }
            free(names[k]);
        }
        free(names);
    }
    printf("fuzz_replay: %d inputs%s\n", total, failed ? ", some unreadable" : ", all ran clean");
    return failed || total == 0;
}
