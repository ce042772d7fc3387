/* privs: the account the workers run as (user, group, allow_root in
 * [server]; config.h) and the privilege drop (no Mono; supervisor side).
 *
 * The supervisor stays as it was started (root, when user is set): like
 * nginx's master and php-fpm's, it must create and reopen log files in
 * directories only root may write (/var/log), chown what it creates for the
 * workers, start workers as the user after a reload that changed it, and
 * signal them. It never starts Mono nor reads a request; the workers, which
 * run the applications, run as the user.
 *
 * Rules (privs_resolve): started as root with no user refuses to start unless
 * allow_root = true (or SCGI_MONO_ALLOW_ROOT=1 in the environment, for a
 * developer's `./build.sh run` and the test suite); started as another user,
 * user may only name that user (group: one of its groups), since only root can
 * switch. Ownership: a privs is freed with privs_free (NULL accepted).
 */
#ifndef PRIVS_H
#define PRIVS_H

#include <glib.h>
#include <sys/types.h>

#include "config.h"

#define PRIVS_ALLOW_ROOT_ENV "SCGI_MONO_ALLOW_ROOT"

typedef struct {
    gboolean drop;     /* TRUE: the workers switch to uid/gid (root started them with user set) */
    uid_t uid;
    gid_t gid;
    gid_t *groups;     /* supplementary groups of the user (initgroups' list), ngroups long */
    int ngroups;
    char *user, *home; /* name and home directory, for USER/LOGNAME/HOME */
} privs;

/* Looks up c's user and group (names or numbers) and applies the rules
 * above. NULL with *error (a message naming the key and the reason) if they
 * do not exist or the rules refuse. */
privs *privs_resolve(const config *c, GError **error);
void privs_free(privs *p);

/* In the child after fork, before exec (async-signal-safe: no allocation, no
 * lookup): setgroups, setgid, setuid, then checks that none can be undone
 * (setuid(0) fails) and that the ids are the ones asked for. 0, or the errno
 * of the step that failed with *step naming it. Nothing done if !p->drop. */
int privs_apply(const privs *p, const char **step);

/* A log file the workers write and reopen by path (error_log, access_log):
 * created if missing (O_APPEND, mode 0640, the last component never followed
 * as a symbolic link) and, when p->drop, given to the user (fchown uid:gid)
 * if it is not theirs, as nginx and php-fpm do. FALSE with *error. */
gboolean privs_prepare_log(const privs *p, const char *path, GError **error);

/* A UNIX socket file the supervisor bound: owner the user, group p->gid
 * (the mode is socket_mode's), when p->drop. FALSE with *error. */
gboolean privs_chown_socket(const privs *p, const char *path, GError **error);

/* Whether the user can read and search dir (R_OK | X_OK): checked with the
 * user's ids (effective ids switched for the check and back; the caller is
 * single-threaded) when p->drop, else as access(2). 0 or the errno. */
int privs_can_read_dir(const privs *p, const char *dir);

#endif
