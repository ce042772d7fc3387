/* reqflags: the flag bits the C host passes to ScgiMono.Entry.Process with a
 * request, and the results Entry.Process returns. This file is the only
 * definition: the build turns each "#define REQ_FLAG_NAME value" line into a
 * constant of the C# class ScgiMono.RequestFlags and each "#define
 * REQ_RESULT_NAME value" into one of ScgiMono.RequestResult
 * (build/gen/RequestFlags.cs, names in CamelCase), so the two sides cannot
 * disagree. One value a line; flag values are powers of two. */
#ifndef REQFLAGS_H
#define REQFLAGS_H

/* The client speaks plain HTTP (no front end): the C host frames the response
 * as HTTP, and no front end can take a file over (X-Sendfile, X-Accel-Redirect). */
#define REQ_FLAG_PLAIN_HTTP 1
/* The body is not in memory but in the C host's temporary file: the managed
 * side reads it through Native.ReadBody. */
#define REQ_FLAG_BODY_SPOOLED 2

/* Entry.Process returns: the request was answered (or ended by ASP.NET). */
#define REQ_RESULT_DONE 0
/* The request was not run and nothing of its response was sent: ASP.NET is
 * unloading the AppDomain (Mono's HttpRuntime drops such requests without
 * ending them). The C host runs it again in a fresh AppDomain. */
#define REQ_RESULT_DOMAIN_UNLOADING 1

#endif
