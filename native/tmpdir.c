/* tmpdir: see tmpdir.h. */
#include "tmpdir.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    int r = flag == FTW_DP ? rmdir(path) : unlink(path);
    return r < 0 && errno != ENOENT ? -1 : 0;
}

gboolean tmpdir_remove(const char *path)
{
    if (!path)
        return TRUE;
    return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0;
}

/* Removes PARENT/scgi-mono-UID-PID-* directories owned by us whose process is gone. */
static void remove_stale(const char *parent, const char *prefix)
{
    GDir *d = g_dir_open(parent, 0, NULL);
    if (!d)
        return;
    const char *name;
    gsize plen = strlen(prefix);
    while ((name = g_dir_read_name(d))) {
        if (strncmp(name, prefix, plen) != 0)
            continue;
        char *end = NULL;
        long pid = strtol(name + plen, &end, 10);
        if (pid <= 0 || !end || *end != '-')
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* alive, or not ours to judge */
        char *path = g_build_filename(parent, name, NULL);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid()) {
            if (tmpdir_remove(path))
                g_message("removed %s, left by a server that is gone", path);
        }
        g_free(path);
    }
    g_dir_close(d);
}

char *tmpdir_create(const char *parent, GError **error)
{
    if (!parent || !*parent)
        parent = g_getenv("TMPDIR");
    if (!parent || !*parent)
        parent = "/tmp";
    char *prefix = g_strdup_printf("scgi-mono-%u-", (unsigned)geteuid());
    remove_stale(parent, prefix);
    char *path = g_strdup_printf("%s/%s%d-XXXXXX", parent, prefix, (int)getpid());
    g_free(prefix);
    if (!mkdtemp(path)) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                    "cannot create a private temporary directory in %s: %s", parent, g_strerror(errno));
        g_free(path);
        return NULL;
    }
    /* mkdtemp made it 0700 and ours; say so only after checking it is */
    struct stat st;
    if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_PERM,
                    "%s is not a directory of this user with mode 0700; refusing to use it", path);
        g_free(path);
        return NULL;
    }
    return path;
}
