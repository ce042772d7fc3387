/* tmpdir: the server's private temporary directory.
 *
 * ASP.NET (Mono's ApplicationHost) compiles pages into
 * Path.GetTempPath()/<user>-temp-aspnet-N, a name any local user can create
 * first (mode 0777, or owned by them) to have the server load their
 * App_Web_*.dll. So the server never uses a shared name: at start it makes a
 * directory of its own, mode 0700, with an unpredictable name
 * (PARENT/scgi-mono-UID-PID-XXXXXX, by mkdtemp), checks that it owns it, and
 * makes it the runtime's TMPDIR; ASP.NET's directories (one per application)
 * and request-body spool files go inside. On a clean stop it is removed;
 * directories of this user's earlier servers whose process is gone (a crash,
 * kill -9) are removed at the next start.
 *
 * Ownership: returned paths are g_free'd by the caller. No Mono here.
 */
#ifndef TMPDIR_H
#define TMPDIR_H

#include <glib.h>

/* Creates the directory under parent (NULL: $TMPDIR, else /tmp) after removing
 * stale ones. Returns its path, or NULL and error (naming the directory and
 * the system error) if it cannot be made or is not exactly ours. */
char *tmpdir_create(const char *parent, GError **error);

/* Removes path and everything below it (symbolic links are removed, never
 * followed). Returns FALSE if anything was left. */
gboolean tmpdir_remove(const char *path);

#endif
