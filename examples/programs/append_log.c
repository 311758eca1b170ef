/*
 * An append-only log job in C: the correct version.
 *
 *   append_log DIR [--items N]     run (or resume) the job in DIR
 *   append_log --check DIR         check DIR (exit 0 if right)
 *
 * Each item appends one record ("<index> <value>\n") to DIR/log and
 * fsyncs the log before telling its user the item is done (one line on the
 * descriptor CRASHPROOF_PROGRESS_FD names: the crashproof contract). When
 * the log is created, the directory is fsynced too: until then the log's
 * name is not durable, and a power loss takes the file and every record in
 * it, however often the file itself was fsynced. At start-up a torn last
 * record (a power loss in the middle of an append) is cut off and the cut
 * made durable before the job goes on. The result goes to stdout at the end.
 *
 * --check is the state oracle: the log's records are whole and in order up
 * to an optional torn tail, and there are at least CRASHPROOF_ACKED of them.
 *
 * append_log_buggy.c is the same program without the directory fsync.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ITEMS_DEFAULT 5
#define RECORD_MAX 64

static long item_value(long i) { return (i * 7919 + 13) % 1000; }

static void die(const char *what, const char *path) {
    fprintf(stderr, "append_log: %s %s: %s\n", what, path, strerror(errno));
    exit(1);
}

#ifndef NO_DIR_FSYNC
static void fsync_path(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) die("cannot open", path);
    if (fsync(fd) != 0) die("cannot fsync", path);
    if (close(fd) != 0) die("cannot close", path);
}
#endif

/* Counts the whole, in-order records of the log at `path`; stores in *keep
 * the length of that prefix (a torn tail starts there). A missing log is
 * empty. */
static long count_records(const char *path, off_t *keep) {
    *keep = 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) return 0;
        die("cannot open", path);
    }
    long done = 0;
    char line[RECORD_MAX];
    char want[RECORD_MAX];
    while (fgets(line, sizeof line, f)) {
        snprintf(want, sizeof want, "%ld %ld\n", done, item_value(done));
        if (strcmp(line, want) != 0) break;
        done++;
        *keep += (off_t)strlen(line);
    }
    if (ferror(f)) die("cannot read", path);
    fclose(f);
    return done;
}

static void log_path(char *out, size_t size, const char *dir) {
    snprintf(out, size, "%s/log", dir);
}

static int run(const char *dir, long items) {
    char path[4096];
    log_path(path, sizeof path, dir);
    off_t keep;
    long done = count_records(path, &keep);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0) die("cannot open", path);
    /* Cut a torn tail and make the cut durable before appending after it. */
    if (ftruncate(fd, keep) != 0) die("cannot truncate", path);
    if (fsync(fd) != 0) die("cannot fsync", path);
#ifndef NO_DIR_FSYNC
    /* The log's name is durable only once its directory is fsynced. */
    fsync_path(dir);
#endif
    const char *progress_fd = getenv("CRASHPROOF_PROGRESS_FD");
    FILE *progress = progress_fd ? fdopen(atoi(progress_fd), "w") : NULL;
    long total = 0;
    for (long i = 0; i < done; i++) total += item_value(i);
    for (; done < items; done++) {
        char record[RECORD_MAX];
        int n = snprintf(record, sizeof record, "%ld %ld\n", done, item_value(done));
        if (write(fd, record, (size_t)n) != n) die("cannot append to", path);
        if (fsync(fd) != 0) die("cannot fsync", path);
        total += item_value(done);
        if (progress) {
            fprintf(progress, "%ld\n", done + 1);
            fflush(progress);
        }
    }
    if (close(fd) != 0) die("cannot close", path);
    printf("items=%ld total=%ld\n", done, total);
    return 0;
}

static int check(const char *dir) {
    char path[4096];
    log_path(path, sizeof path, dir);
    const char *acked_text = getenv("CRASHPROOF_ACKED");
    long acked = acked_text ? atol(acked_text) : 0;
    off_t keep;
    long done = count_records(path, &keep);
    if (done < acked) {
        fprintf(stderr, "check: the log holds %ld whole records, but %ld were acknowledged\n",
                done, acked);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--check") == 0) return check(argv[2]);
    if (argc == 2) return run(argv[1], ITEMS_DEFAULT);
    if (argc == 4 && strcmp(argv[2], "--items") == 0) return run(argv[1], atol(argv[3]));
    fprintf(stderr, "usage: append_log DIR [--items N] | append_log --check DIR\n");
    return 2;
}
