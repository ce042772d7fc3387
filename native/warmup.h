/* warmup: a new worker's warm-up requests (config key "warmup").
 *
 * Before a worker accepts from its listeners it requests each application's
 * warmup paths, in order, through its own request path: a socketpair whose
 * one end the event loop adopts as a plain HTTP connection (server_adopt,
 * conn.h), so routing, ASP.NET's compilation and the response are exactly
 * those of a user's request. The request is
 *   GET PATH HTTP/1.1, Host: the application's vhost or "localhost",
 *   Connection: close
 * and the whole answer is read (until the server closes).
 *
 * Rule: a warm-up URL passes when it answers 2xx or 3xx (a redirect ran the
 * application); 4xx (a wrong path is a configuration mistake) and 5xx fail,
 * and so does no answer before the deadline (warmup_timeout for the whole
 * warm-up). The first failure ends the warm-up.
 *
 * Precompilation (config key "precompile"): after an application's warmup
 * paths, one more request through the same path asks the application's
 * domain to compile every page, user control, master page and handler
 * (managed/Precompile.cs); it is told apart from any client's by a random
 * token of this worker, in its environment (WARMUP_PRECOMPILE_ENV) before
 * Mono starts. Its one-line answer (counts, time) is logged; a file that does
 * not compile is logged by the managed side as a warning. It never fails the
 * warm-up: an unfinished or failed precompilation is a warning, and the worker
 * serves (what is left compiles on first use, as without it).
 */
#ifndef WARMUP_H
#define WARMUP_H

#include <glib.h>
#include "config.h"
#include "conn.h"

/* Requests every warmup path of every application of cfg, logging one line
 * per URL ("warm-up of APP: GET /x 200 in 1.23 s"). Returns TRUE when all
 * passed; else FALSE with *why set ("warm-up of APP failed: GET /x -> 500
 * Internal Server Error (title of the error page)"; g_free it). Blocks: call
 * it on a thread of its own while s runs. Stops early (FALSE, *why NULL) if
 * the server is stopping. */
gboolean warmup_run(server *s, const config *cfg, char **why);

/* The variable read by managed/Precompile.cs (Precompile.TokenVariable); the
 * query "scgi-mono-precompile=TOKEN" is its QueryName too. Mirrored names:
 * test_75 fails if they differ (the request would run as a user's). */
#define WARMUP_PRECOMPILE_ENV "SCGI_MONO_PRECOMPILE_TOKEN"

/* Whether a worker with cfg warms up before it accepts (warmup paths or
 * precompilation of any application). */
gboolean warmup_wanted(const config *cfg);

/* Call before Mono starts: when an application of cfg precompiles, sets
 * WARMUP_PRECOMPILE_ENV to a new random token (else unsets it). FALSE with
 * *error when no random bytes could be had. */
gboolean warmup_arm_precompile(const config *cfg, GError **error);

/* Reads an HTTP response as received (buf, len: all of it or its start):
 * returns the status code of "HTTP/1.x NNN reason", or -1 if it does not
 * start with one. *detail (may be NULL) gets the reason phrase and, in
 * parentheses, the exception message of an ASP.NET error page (Mono's
 * <h2 class="exceptionMessage">) or else the HTML <title>, printable ASCII
 * only, at most 200 bytes; g_free it. */
int warmup_parse_response(const char *buf, gsize len, char **detail);

#endif
