/* reqflags: the flag bits the C host passes to ScgiMono.Entry.Process with a
 * request. This file is the only definition: the build turns each
 * "#define REQ_FLAG_NAME value" line into a constant of the C# class
 * ScgiMono.RequestFlags (build/gen/RequestFlags.cs, name in CamelCase), so
 * the two sides cannot disagree. One flag a line, values are powers of two. */
#ifndef REQFLAGS_H
#define REQFLAGS_H

/* The client speaks plain HTTP (no front end): the C host frames the response
 * as HTTP, and no front end can take a file over (X-Sendfile, X-Accel-Redirect). */
#define REQ_FLAG_PLAIN_HTTP 1
/* The body is not in memory but in the C host's temporary file: the managed
 * side reads it through Native.ReadBody. */
#define REQ_FLAG_BODY_SPOOLED 2

#endif
