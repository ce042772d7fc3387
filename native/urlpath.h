/* urlpath: the one place a request URL becomes the path the server reasons
 * about. Pure: no I/O, no allocation sized by anything but the input, no Mono.
 *
 * The rule (the README's "How a URL maps to a file"):
 *  - the target's path part (before '?') is percent-decoded as UTF-8;
 *    a '%' without two hex digits, NUL or another control byte (0x00-0x1f,
 *    0x7f, raw or decoded) and bytes that are not valid UTF-8 (overlong forms
 *    and surrogates included) are refused;
 *  - an encoded '/' (%2F) is a segment separator, as nginx and IIS treat it:
 *    "/sub%2Fbin/x" is "/sub/bin/x". A backslash ('\' or %5C) is a separator too,
 *    as IIS and Windows-minded code (Mono's System.Web included) treat it, so no
 *    later layer can read a different path into the same URL;
 *  - empty segments are collapsed ("//bin" is "/bin"); a trailing '/' is kept,
 *    because it names a directory;
 *  - a "." or ".." segment, after decoding (".%2e", "%2E", "..\" ...), is refused:
 *    nothing a client sends names a file outside the application;
 *  - a ':' or '*', raw or decoded, is refused: they are the characters Mono's
 *    System.Web rejects in a virtual path (VirtualPathUtility.IsValidVirtualPath,
 *    invalidVirtualPathChars), so such a URL could only end in a host-level 500.
 *    (An application with <monoSettings verificationCompatibility="1"/> would
 *    accept them; the server refuses them for every application.) '%' and the
 *    other characters of ASP.NET's requestPathInvalidCharacters are left to the
 *    application: its request validation is its own configuration;
 *  - an absolute-form target ("http://host/p?q") is reduced to its path.
 * The result always starts with '/', is valid UTF-8 without control bytes,
 * and has no "//", "/./" or "/../".
 *
 * Private paths (urlpath_is_private): a segment starting with '.' anywhere
 * (".git", ".env", ".htpasswd"), and ASP.NET's private directories as the first
 * segment under the application's mount (bin, App_Code, App_Data,
 * App_GlobalResources, App_LocalResources, App_WebReferences, App_Browsers),
 * App_LocalResources at any depth, in any letter case. They are answered 404.
 *
 * Cookieless sessions (urlpath_session_views): System.Web's SessionStateModule,
 * in every application whatever its sessionState says, takes a FilePath whose
 * directory has "/(" right under the application's mount and ')' 25 characters
 * later for a session id, and serves the FilePath with the part from the first
 * "/(" to the first ")/" removed. The server judges privacy on those paths too.
 */
#ifndef URLPATH_H
#define URLPATH_H

#include <glib.h>

typedef enum {
    URLPATH_OK = 0,
    URLPATH_NOT_ABSOLUTE, /* the path does not start with '/' ("*", "x/y", ...) */
    URLPATH_BAD_ESCAPE,   /* '%' not followed by two hex digits */
    URLPATH_CONTROL,      /* NUL or another control byte, raw or decoded */
    URLPATH_BAD_UTF8,     /* the decoded bytes are not valid UTF-8 */
    URLPATH_DOT_SEGMENT,  /* a "." or ".." segment */
    URLPATH_INVALID_CHAR, /* a ':' or '*' (raw or decoded), which Mono refuses in a virtual path */
} urlpath_status;

/* A sentence for a 400 answer and a log line; never NULL. */
const char *urlpath_strerror(urlpath_status st);

/* Splits a request target (REQUEST_URI, the HTTP request line's target) into
 * its path and query, each pointing into target. An absolute-form target
 * ("scheme://authority/path?q") gives its path ("" when it has none). *query is
 * NULL when there is no '?'. */
void urlpath_split_target(const char *target, gsize len, const char **path, gsize *path_len,
                          const char **query, gsize *query_len);

/* Normalises the raw (still percent-encoded) path part of a URL. On
 * URLPATH_OK, out holds the decoded, collapsed path (replacing what it held;
 * an empty raw path gives "/"). On an error out's content is unspecified. */
urlpath_status urlpath_normalize(const char *raw, gsize len, GString *out);

/* The part of a normalised path under a mount ("/" or "/a/b": normalised, no
 * trailing slash): a pointer into path after the mount and its '/' ("" for the
 * mount itself or "mount/"), or NULL when path is not under it at a segment
 * boundary. fold_case compares ASCII letters case-insensitively. */
const char *urlpath_under(const char *path, const char *mount, gboolean fold_case);

/* TRUE when a normalised path is private for the application mounted at mount
 * (see the rule above). The mount is matched in any letter case too ("/SUB/bin"
 * is private for "/sub"): a case-insensitive layer (MONO_IOMAP, a file system)
 * must not open a way around it. A path not under mount is judged by its dot
 * segments only. */
gboolean urlpath_is_private(const char *path, const char *mount);

/* Every path System.Web's SessionStateModule may serve a normalised path as,
 * in an application mounted at mount, once it removed what it takes for a
 * cookieless session id (see above), whatever the FilePath/PathInfo split
 * (FilePath is path or a prefix of it ending before a '/'). fn is called with
 * each such view (not with path itself) until it returns TRUE; a view that is a
 * prefix of another at a segment boundary is left out (a prefix of a path is
 * private only if the path is). Views have no "//" and only segments of path.
 * The mount is matched in any letter case. Returns TRUE when fn stopped it.
 * Costs nothing unless path has "/(" right under mount and ')' 25 bytes after. */
typedef gboolean (*urlpath_view_fn)(const char *view, void *ud);
gboolean urlpath_session_views(const char *path, const char *mount, urlpath_view_fn fn, void *ud);

/* Appends s (a decoded path, as CGI's SCRIPT_NAME and PATH_INFO are) to out
 * percent-encoded: every byte but unreserved characters, '/' and the sub-delims
 * RFC 3986 allows in a path is written as %XX ('%', '?', '#', space, non-ASCII). */
void urlpath_encode(const char *s, gsize len, GString *out);

#endif
