/* appwatch: see appwatch.h. */
#include "appwatch.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

/* Events that change a file's content or presence (IN_ATTRIB: `touch`). */
#define AW_MASK (IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_MOVED_FROM | IN_MOVED_TO | \
                 IN_DELETE_SELF | IN_MOVE_SELF | IN_DONT_FOLLOW | IN_ONLYDIR)
#define AW_MAX_DEPTH 32

typedef struct {
    char *names;     /* "a" or "a, b" */
    char *root;
    gint64 first;    /* monotonic µs of the first counting event pending, 0 = none */
    gint64 last;
    char *file;      /* the first file pending */
    int events;
} aw_app;

/* One watched directory of one application (an inotify watch descriptor can
 * stand for directories of several applications when their trees overlap). */
typedef struct {
    aw_app *app;
    char *rel;       /* relative to app->root, "" for the root itself */
} aw_dir;

struct appwatch {
    int fd;
    GPtrArray *apps;    /* of aw_app* */
    GHashTable *wds;    /* watch descriptor -> GPtrArray of aw_dir* */
    gboolean warned;    /* the watch limit was logged */
};

static gboolean name_is(const char *s, gsize len, const char *name)
{
    return len == strlen(name) && g_ascii_strncasecmp(s, name, len) == 0;
}

gboolean appwatch_counts(const char *rel, gboolean is_dir)
{
    if (!rel || !*rel)
        return FALSE;
    const char *slash = strchr(rel, '/');
    gsize first_len = slash ? (gsize)(slash - rel) : strlen(rel);
    const char *rest = slash ? slash + 1 : NULL;       /* after the first component */
    gboolean nested = rest && strchr(rest, '/') != NULL; /* three components or more */
    const char *base = strrchr(rel, '/');
    base = base ? base + 1 : rel;
    if (!is_dir && g_ascii_strcasecmp(base, "web.config") == 0)
        return TRUE;
    if (!rest) /* at the root */
        return (!is_dir && name_is(rel, first_len, "global.asax")) || name_is(rel, first_len, "bin") ||
               name_is(rel, first_len, "App_Code") || name_is(rel, first_len, "App_Browsers") ||
               name_is(rel, first_len, "App_GlobalResources");
    if (!*rest)
        return FALSE; /* "dir/": not a name */
    if (name_is(rel, first_len, "App_Code"))
        return TRUE;
    if (nested)
        return FALSE;
    if (name_is(rel, first_len, "App_Browsers") || name_is(rel, first_len, "App_GlobalResources"))
        return TRUE;
    if (name_is(rel, first_len, "bin")) {
        gsize n = strlen(rest);
        return !is_dir && n >= 4 && g_ascii_strcasecmp(rest + n - 4, ".dll") == 0;
    }
    return FALSE;
}

static void dir_free(gpointer p)
{
    aw_dir *d = p;
    g_free(d->rel);
    g_free(d);
}

static void dirs_free(gpointer p)
{
    g_ptr_array_free(p, TRUE);
}

static void app_free(gpointer p)
{
    aw_app *a = p;
    g_free(a->names);
    g_free(a->root);
    g_free(a->file);
    g_free(a);
}

appwatch *appwatch_new(GError **error)
{
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "inotify: %s", g_strerror(errno));
        return NULL;
    }
    appwatch *aw = g_new0(appwatch, 1);
    aw->fd = fd;
    aw->apps = g_ptr_array_new_with_free_func(app_free);
    aw->wds = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, dirs_free);
    return aw;
}

void appwatch_free(appwatch *aw)
{
    if (!aw)
        return;
    close(aw->fd);
    g_hash_table_destroy(aw->wds);
    g_ptr_array_free(aw->apps, TRUE);
    g_free(aw);
}

int appwatch_fd(const appwatch *aw)
{
    return aw->fd;
}

static void mark(aw_app *a, const char *rel, gint64 now)
{
    if (!a->first)
        a->first = now;
    a->last = now;
    a->events++;
    if (!a->file)
        a->file = g_strdup(rel);
}

static char *join(const char *rel, const char *name)
{
    return *rel ? g_strconcat(rel, "/", name, NULL) : g_strdup(name);
}

/* Watches the directory rel of a and, below AW_MAX_DEPTH, its subdirectories.
 * scan: the directory is new, so files created in it before its watch are
 * looked at (a counting one marks a change). Returns directories watched. */
static int watch_tree(appwatch *aw, aw_app *a, const char *rel, int depth, gboolean scan, gint64 now)
{
    char *path = *rel ? g_build_filename(a->root, rel, NULL) : g_strdup(a->root);
    /* the root may be a symbolic link; below it links are not followed */
    int wd = inotify_add_watch(aw->fd, path, *rel ? AW_MASK : (AW_MASK & ~(guint32)IN_DONT_FOLLOW));
    if (wd < 0) {
        if (errno != ENOENT && errno != ENOTDIR && !aw->warned) {
            aw->warned = TRUE;
            g_warning("application %s: cannot watch %s for changes: %s%s", a->names, path, g_strerror(errno),
                      errno == ENOSPC ? " (raise fs.inotify.max_user_watches)" : "");
        }
        g_free(path);
        return 0;
    }
    GPtrArray *dirs = g_hash_table_lookup(aw->wds, GINT_TO_POINTER(wd));
    if (!dirs) {
        dirs = g_ptr_array_new_with_free_func(dir_free);
        g_hash_table_insert(aw->wds, GINT_TO_POINTER(wd), dirs);
    }
    for (guint i = 0; i < dirs->len; i++) {
        aw_dir *d = g_ptr_array_index(dirs, i);
        if (d->app == a && strcmp(d->rel, rel) == 0) {
            g_free(path);
            return 0; /* already watched (a loop, or created twice) */
        }
    }
    aw_dir *d = g_new0(aw_dir, 1);
    d->app = a;
    d->rel = g_strdup(rel);
    g_ptr_array_add(dirs, d);
    int n = 1;
    DIR *dir = opendir(path);
    struct dirent *e;
    while (dir && (e = readdir(dir))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        gboolean is_dir = e->d_type == DT_DIR;
        if (e->d_type == DT_UNKNOWN) {
            struct stat st;
            char *p = g_build_filename(path, e->d_name, NULL);
            is_dir = lstat(p, &st) == 0 && S_ISDIR(st.st_mode);
            g_free(p);
        }
        char *sub = join(rel, e->d_name);
        if (scan && appwatch_counts(sub, is_dir))
            mark(a, sub, now);
        if (is_dir && depth < AW_MAX_DEPTH)
            n += watch_tree(aw, a, sub, depth + 1, scan, now);
        g_free(sub);
    }
    if (dir)
        closedir(dir);
    g_free(path);
    return n;
}

int appwatch_add(appwatch *aw, const char *name, const char *root)
{
    for (guint i = 0; i < aw->apps->len; i++) {
        aw_app *a = g_ptr_array_index(aw->apps, i);
        if (strcmp(a->root, root) == 0) {
            char *names = g_strconcat(a->names, ", ", name, NULL);
            g_free(a->names);
            a->names = names;
            return 0;
        }
    }
    aw_app *a = g_new0(aw_app, 1);
    a->names = g_strdup(name);
    a->root = g_strdup(root);
    g_ptr_array_add(aw->apps, a);
    return watch_tree(aw, a, "", 0, FALSE, 0);
}

static void on_event(appwatch *aw, const struct inotify_event *ev, gint64 now)
{
    if (ev->mask & IN_Q_OVERFLOW) {
        for (guint i = 0; i < aw->apps->len; i++)
            mark(g_ptr_array_index(aw->apps, i), "(too many changes at once: inotify queue overflow)", now);
        return;
    }
    GPtrArray *dirs = g_hash_table_lookup(aw->wds, GINT_TO_POINTER(ev->wd));
    if (!dirs)
        return;
    if (ev->mask & IN_IGNORED) { /* the directory is gone (or was replaced): its watch too */
        g_hash_table_remove(aw->wds, GINT_TO_POINTER(ev->wd));
        return;
    }
    gboolean is_dir = (ev->mask & IN_ISDIR) != 0;
    gboolean self = (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) != 0;
    /* a watch's records may grow while we go through them (new directories
     * of nested applications): iterate by index over the length at entry */
    guint n = dirs->len;
    for (guint i = 0; i < n; i++) {
        aw_dir *d = g_ptr_array_index(dirs, i);
        char *rel = self ? g_strdup(d->rel) : ev->len && ev->name[0] ? join(d->rel, ev->name) : NULL;
        if (!rel)
            continue;
        if (appwatch_counts(rel, self || is_dir))
            mark(d->app, rel, now);
        if (!self && is_dir && (ev->mask & (IN_CREATE | IN_MOVED_TO))) {
            int depth = 1;
            for (const char *p = rel; *p; p++)
                depth += *p == '/';
            if (depth <= AW_MAX_DEPTH)
                watch_tree(aw, d->app, rel, depth, TRUE, now);
        }
        g_free(rel);
        dirs = g_hash_table_lookup(aw->wds, GINT_TO_POINTER(ev->wd));
        if (!dirs)
            break;
    }
}

void appwatch_read(appwatch *aw, gint64 now)
{
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        ssize_t r = read(aw->fd, buf, sizeof buf);
        if (r <= 0)
            return; /* EAGAIN: all read */
        for (char *p = buf; p < buf + r;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            on_event(aw, ev, now);
            p += sizeof *ev + ev->len;
        }
    }
}

gboolean appwatch_due(appwatch *aw, gint64 now, char **name, char **file, int *events)
{
    for (guint i = 0; i < aw->apps->len; i++) {
        aw_app *a = g_ptr_array_index(aw->apps, i);
        if (!a->first || (now - a->last < APPWATCH_QUIET_US && now - a->first < APPWATCH_MAX_WAIT_US))
            continue;
        *name = g_strdup(a->names);
        *file = a->file;
        *events = a->events;
        a->file = NULL;
        a->first = a->last = 0;
        a->events = 0;
        return TRUE;
    }
    return FALSE;
}
