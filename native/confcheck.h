/* confcheck: the configuration check of `scgi-mono-server -t` and of SIGHUP
 * (no Mono; linked into the supervisor).
 *
 * confcheck_xml judges one web.config's bytes: well-formed XML or not, with
 * the line and column of the first error. It is GLib's GMarkup underneath,
 * which is not a full XML parser; where GMarkup cannot judge a document (a
 * DOCTYPE, which may declare entities; an encoding iconv does not know) the
 * answer is CONFCHECK_XML_UNJUDGED and no error is reported: the check never
 * refuses a file .NET would accept for a reason only GMarkup has.
 * Encodings: a UTF-8 BOM is skipped, a UTF-16 BOM or an encoding="..." in
 * the <?xml?> declaration other than UTF-8 is converted to UTF-8 first
 * (positions are counted in the converted text: lines are the same).
 *
 * confcheck_config checks a loaded configuration's applications: every
 * directory exists, is a directory, is readable and searchable by the user
 * the workers run as (user in [server] when started as root, checked with that
 * user's ids; else the current user), and its web.config, if present, is
 * readable and well-formed; and the account rules of privs.h (user and group
 * exist; root needs user or allow_root). It binds nothing and starts nothing.
 */
#ifndef CONFCHECK_H
#define CONFCHECK_H

#include <glib.h>
#include "config.h"

typedef enum {
    CONFCHECK_XML_OK,        /* well-formed */
    CONFCHECK_XML_BAD,       /* not well-formed: *line, *column (1-based) and *message set */
    CONFCHECK_XML_UNJUDGED,  /* GMarkup cannot tell: treated as valid, *message says why */
} confcheck_xml_result;

/* data need not be NUL-terminated. line, column and message may be NULL;
 * *message (when asked for) is set for BAD and UNJUDGED, the caller frees it,
 * and is printable ASCII of bounded length (control and non-ASCII bytes
 * escaped), whatever the input. */
confcheck_xml_result confcheck_xml(const char *data, gsize len, int *line, int *column, char **message);

/* Appends one message (char *, owned by the array, which must free with
 * g_free) per problem found to problems; returns the number appended. Each
 * message names the application ("app:NAME") and the path. */
guint confcheck_config(const config *c, GPtrArray *problems);

#endif
