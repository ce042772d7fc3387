/* appwatch: notices the application changes ASP.NET restarts an application
 * for, so that the supervisor can replace the workers overlapped instead of
 * letting each worker unload its AppDomain in-process (fragile under load on
 * Mono 6.8). Used by the supervisor only: no Mono, inotify(7) and GLib.
 *
 * What counts is appwatch_counts (pure): the same set as System.Web's
 * HttpApplicationFactory watchers. Every directory of an application's tree
 * is watched (web.config counts at any depth); directories created later are
 * added as they appear, and a counting file already inside a new directory
 * (created before its watch) counts too. Symbolic links to directories below
 * the root are not followed.
 *
 * Changes are debounced per application: an editor or `cp -r bin` writes in
 * several steps, so a change is due once no counting event came for
 * APPWATCH_QUIET_US, or APPWATCH_MAX_WAIT_US after its first event, whichever
 * is first. An inotify queue overflow counts as a change of every application.
 *
 * Ownership: appwatch_new returns an object the caller frees with
 * appwatch_free (NULL accepted); strings returned by appwatch_due are the
 * caller's (g_free). Not thread-safe (the supervisor is single-threaded).
 */
#ifndef APPWATCH_H
#define APPWATCH_H

#include <glib.h>

#define APPWATCH_QUIET_US (500 * 1000)
#define APPWATCH_MAX_WAIT_US (3 * G_USEC_PER_SEC)

/* Whether a change to rel (a path relative to an application's root, '/'
 * between components, no leading '/'; is_dir: it names a directory) is one
 * ASP.NET restarts the application for. Names compare case-insensitively:
 *   web.config at any depth (a file; ASP.NET's "?eb.?onfig" watcher then
 *     compares the name with web.config);
 *   global.asax at the root;
 *   bin (created or removed) and bin/<name>.dll;
 *   App_Code, App_Browsers, App_GlobalResources (created or removed), anything
 *     at any depth in App_Code, anything directly in the other two.
 * NULL or "" count as nothing. */
gboolean appwatch_counts(const char *rel, gboolean is_dir);

typedef struct appwatch appwatch;

/* An inotify instance (non-blocking, close-on-exec); NULL with error set if the
 * system refuses one. */
appwatch *appwatch_new(GError **error);
void appwatch_free(appwatch *aw);

/* Watches the tree at root for the application called name. Two applications
 * with the same root share one entry, named "a, b". Failures (a missing
 * directory, the watch limit) are logged once and leave the rest watched.
 * Returns the number of directories now watched for it. */
int appwatch_add(appwatch *aw, const char *name, const char *root);

/* The descriptor to poll for input. */
int appwatch_fd(const appwatch *aw);

/* Reads the pending events (call when appwatch_fd is readable); now is
 * g_get_monotonic_time(). */
void appwatch_read(appwatch *aw, gint64 now);

/* An application whose change is due at now (see above): TRUE, with its name,
 * the first file that changed (relative to its root) and the number of
 * counting events since; its pending change is then forgotten. FALSE when
 * none is due. Call until FALSE. */
gboolean appwatch_due(appwatch *aw, gint64 now, char **name, char **file, int *events);

#endif
