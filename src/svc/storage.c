/*
 * storage.c - naming a state directory's storage problem at start
 * (storage.h).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

#include "svc/storage.h"

const char *fki_storage_problem(const char *path, char *buf, size_t cap)
{
    char p[PATH_MAX];
    struct statvfs sv;
    if ((size_t)snprintf(p, sizeof p, "%s", path) >= sizeof p)
        return NULL;
    /* The directory may not exist yet (it failed to be made): ask its parent. */
    while (statvfs(p, &sv)) {
        char *slash = strrchr(p, '/');
        if (!slash) {
            if (statvfs(".", &sv))
                return NULL;
            break;
        }
        if (slash == p) {
            p[1] = 0;
            if (statvfs(p, &sv))
                return NULL;
            break;
        }
        *slash = 0;
    }
    if (sv.f_flag & ST_RDONLY) {
        snprintf(buf, cap,
                 "%s is on a read-only file system; give the daemon a writable state directory "
                 "(with systemd: StateDirectory=)",
                 path);
        return buf;
    }
    unsigned long long avail = (unsigned long long)sv.f_bavail * sv.f_frsize;
    if (avail < FKI_STORAGE_MIN_FREE) {
        snprintf(buf, cap,
                 "disk full: the file system holding %s has %llu kB free; free some space, then "
                 "start again",
                 path, avail / 1024);
        return buf;
    }
    return NULL;
}
