/* An LD_PRELOAD shim that makes the real sharelog binary see disk faults on demand.
 *
 * FAULT_SHIM_FSYNC_TRIGGER=PATH   while PATH exists, fsync() and fdatasync() fail with EIO
 *                                 (after doing nothing): a disk that stops taking data.
 * FAULT_SHIM_ENOSPC_NAME=TEXT     write()/pwrite() to a file whose path contains TEXT fail
 *                                 with ENOSPC: a disk that fills up while that file is written.
 *
 * Each injected failure is counted in FAULT_SHIM_FSYNC_TRIGGER's sibling "<PATH>.hits" (one
 * byte per failure), so a test can tell the fault really happened.
 * Built by the tests with `cc -shared -fPIC` into target/. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static int trigger_on(void) {
    const char *t = getenv("FAULT_SHIM_FSYNC_TRIGGER");
    return t && *t && access(t, F_OK) == 0;
}

static void count_hit(void) {
    const char *t = getenv("FAULT_SHIM_FSYNC_TRIGGER");
    if (!t || !*t) return;
    char path[4096];
    snprintf(path, sizeof path, "%s.hits", t);
    int (*real_open)(const char *, int, ...) = dlsym(RTLD_NEXT, "open");
    ssize_t (*real_write)(int, const void *, size_t) = dlsym(RTLD_NEXT, "write");
    int fd = real_open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
        real_write(fd, "x", 1);
        close(fd);
    }
}

static int fd_matches(int fd) {
    const char *name = getenv("FAULT_SHIM_ENOSPC_NAME");
    if (!name || !*name) return 0;
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0) return 0;
    path[n] = 0;
    return strstr(path, name) != NULL;
}

int fsync(int fd) {
    if (trigger_on()) {
        count_hit();
        errno = EIO;
        return -1;
    }
    int (*real)(int) = dlsym(RTLD_NEXT, "fsync");
    return real(fd);
}

int fdatasync(int fd) {
    if (trigger_on()) {
        count_hit();
        errno = EIO;
        return -1;
    }
    int (*real)(int) = dlsym(RTLD_NEXT, "fdatasync");
    return real(fd);
}

ssize_t write(int fd, const void *buf, size_t count) {
    if (fd_matches(fd)) {
        errno = ENOSPC;
        return -1;
    }
    ssize_t (*real)(int, const void *, size_t) = dlsym(RTLD_NEXT, "write");
    return real(fd, buf, count);
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset) {
    if (fd_matches(fd)) {
        errno = ENOSPC;
        return -1;
    }
    ssize_t (*real)(int, const void *, size_t, off_t) = dlsym(RTLD_NEXT, "pwrite");
    return real(fd, buf, count, offset);
}
