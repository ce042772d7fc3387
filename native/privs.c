/* privs: see privs.h. */
#include "privs.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void privs_free(privs *p)
{
    if (!p)
        return;
    g_free(p->groups);
    g_free(p->user);
    g_free(p->home);
    g_free(p);
}

static gboolean all_digits(const char *s)
{
    return *s && s[strspn(s, "0123456789")] == '\0';
}

static struct passwd *find_user(const char *name)
{
    struct passwd *pw = getpwnam(name);
    if (!pw && all_digits(name))
        pw = getpwuid((uid_t)strtoul(name, NULL, 10));
    return pw;
}

static struct group *find_group(const char *name)
{
    struct group *gr = getgrnam(name);
    if (!gr && all_digits(name))
        gr = getgrgid((gid_t)strtoul(name, NULL, 10));
    return gr;
}

static const char *where(const config *c)
{
    return c->config_file ? c->config_file : "configuration";
}

privs *privs_resolve(const config *c, GError **error)
{
    privs *p = g_new0(privs, 1);
    gboolean root = geteuid() == 0;
    if (!c->user) {
        if (c->group) {
            g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: [server] group needs user too", where(c));
            goto fail;
        }
        if (root && !c->allow_root && g_strcmp0(g_getenv(PRIVS_ALLOW_ROOT_ENV), "1") != 0) {
            g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_PERM,
                        "%s: started as root with no user: the workers (and every application) would run as "
                        "root; set user (and group) in [server] to the account they should run as, or "
                        "allow_root = true to run them as root anyway", where(c));
            goto fail;
        }
        return p;
    }
    errno = 0;
    struct passwd *pw = find_user(c->user);
    if (!pw) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "%s: [server] user \"%s\": %s", where(c), c->user,
                    errno ? g_strerror(errno) : "no such user");
        goto fail;
    }
    p->uid = pw->pw_uid;
    p->gid = pw->pw_gid;
    p->user = g_strdup(pw->pw_name);
    p->home = g_strdup(pw->pw_dir);
    if (c->group) {
        errno = 0;
        struct group *gr = find_group(c->group);
        if (!gr) {
            g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "%s: [server] group \"%s\": %s", where(c),
                        c->group, errno ? g_strerror(errno) : "no such group");
            goto fail;
        }
        p->gid = gr->gr_gid;
    }
    if (p->uid == 0 && !c->allow_root && g_strcmp0(g_getenv(PRIVS_ALLOW_ROOT_ENV), "1") != 0) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_PERM,
                    "%s: [server] user \"%s\" is root: set allow_root = true to run the workers as root", where(c),
                    c->user);
        goto fail;
    }
    if (!root) {
        if (p->uid != geteuid() || p->gid != getegid()) {
            g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_PERM,
                        "%s: [server] user = %s%s%s: only root can switch to another user or group, and the "
                        "server runs as uid %u gid %u (start it as root, or remove user and group)",
                        where(c), c->user, c->group ? ", group = " : "", c->group ? c->group : "",
                        (unsigned)geteuid(), (unsigned)getegid());
            goto fail;
        }
        return p; /* already that user: nothing to switch */
    }
    int n = 32;
    p->groups = g_new(gid_t, n);
    if (getgrouplist(p->user, p->gid, p->groups, &n) < 0) {
        p->groups = g_renew(gid_t, p->groups, n);
        if (getgrouplist(p->user, p->gid, p->groups, &n) < 0) {
            g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: the groups of user %s cannot be listed",
                        where(c), p->user);
            goto fail;
        }
    }
    p->ngroups = n;
    p->drop = TRUE;
    return p;
fail:
    privs_free(p);
    return NULL;
}

int privs_apply(const privs *p, const char **step)
{
    if (!p || !p->drop)
        return 0;
    *step = "setgroups";
    if (setgroups((size_t)p->ngroups, p->groups) < 0)
        return errno;
    *step = "setgid";
    if (setgid(p->gid) < 0)
        return errno;
    *step = "setuid";
    if (setuid(p->uid) < 0)
        return errno;
    *step = "checking the ids after setuid";
    if (getuid() != p->uid || geteuid() != p->uid || getgid() != p->gid || getegid() != p->gid)
        return EPERM;
    if (p->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
        return EPERM; /* root could be taken back */
    return 0;
}

gboolean privs_prepare_log(const privs *p, const char *path, GError **error)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0640);
    if (fd < 0) {
        int e = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot open the log file %s: %s", path,
                    g_strerror(e));
        return FALSE;
    }
    struct stat st;
    gboolean ok = TRUE;
    if (p && p->drop && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_uid != p->uid || st.st_gid != p->gid) &&
        fchown(fd, p->uid, p->gid) < 0) {
        int e = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot give the log file %s to user %s: %s",
                    path, p->user, g_strerror(e));
        ok = FALSE;
    }
    close(fd);
    return ok;
}

gboolean privs_chown_socket(const privs *p, const char *path, GError **error)
{
    if (!p || !p->drop)
        return TRUE;
    if (lchown(path, p->uid, p->gid) < 0) {
        int e = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot give the socket %s to user %s: %s",
                    path, p->user, g_strerror(e));
        return FALSE;
    }
    return TRUE;
}

int privs_can_read_dir(const privs *p, const char *dir)
{
    if (!p || !p->drop)
        return access(dir, R_OK | X_OK) == 0 ? 0 : errno;
    /* the effective ids only (the saved uid stays 0, so they come back) */
    int saved_n = getgroups(0, NULL);
    gid_t *saved = g_new(gid_t, MAX(saved_n, 1));
    saved_n = getgroups(saved_n, saved);
    int r = EPERM;
    uid_t euid = geteuid();
    gid_t egid = getegid();
    if (saved_n >= 0 && setgroups((size_t)p->ngroups, p->groups) == 0) {
        if (setegid(p->gid) == 0) {
            if (seteuid(p->uid) == 0) {
                r = faccessat(AT_FDCWD, dir, R_OK | X_OK, AT_EACCESS) == 0 ? 0 : errno;
                if (seteuid(euid) < 0)
                    abort(); /* cannot happen: the saved uid is root's */
            }
            if (setegid(egid) < 0)
                abort();
        }
        if (setgroups((size_t)saved_n, saved) < 0)
            abort();
    }
    g_free(saved);
    return r;
}
