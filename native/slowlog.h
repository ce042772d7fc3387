/* slowlog: a request that runs past slow_request_timeout is logged once, with
 * its method, URL, application, how long it has run and the managed stack of
 * the pool thread serving it (php-fpm's slowlog, for managed code).
 *
 * How the stack is taken: a watcher thread (attached to Mono) sends the slow
 * thread a signal of its own (SIGRTMAX, a real-time signal Mono never picks);
 * the handler, on that thread, walks its managed frames with Mono's
 * async-signal-safe walker (mono_stack_walk_async_safe, what Mono's sampling
 * profiler uses) into the thread's slot, recording only pointers and offsets;
 * the watcher then names the frames (mono_method_full_name) and logs one line.
 * Only that thread is interrupted, for microseconds, unlike Mono's SIGQUIT
 * dump (every thread, one after the other, printed to stdout by the finalizer
 * thread), and Mono's StackTrace(Thread, bool) is not implemented for another
 * thread. The line says how long the stack took to take. At most
 * SLOWLOG_STACKS_PER_SECOND stacks are taken per second in a process; past
 * that the line is logged without one.
 *
 * The URL is the client's bytes, cut to SLOWLOG_URL_MAX; the line goes
 * through the log's escaping (log.h), so control bytes cannot forge lines.
 *
 * Threads: slowlog_new and slowlog_start on the main thread (slowlog_new
 * before Mono starts, so that the signal is ours before Mono looks for free
 * ones); slowlog_thread_register on each pool thread after it is attached to
 * Mono; slowlog_begin/end on that pool thread around each request. A NULL
 * slowlog (slow_request_timeout = 0) makes every call a no-op. */
#ifndef SLOWLOG_H
#define SLOWLOG_H

#include <glib.h>

#define SLOWLOG_URL_MAX 512
#define SLOWLOG_FRAMES_MAX 64
#define SLOWLOG_STACKS_PER_SECOND 10

typedef struct slowlog slowlog;

/* For `threads` pool threads, logging requests past timeout_s seconds; NULL
 * when timeout_s <= 0. Installs the signal handler. */
slowlog *slowlog_new(int threads, int timeout_s);
/* Starts the watcher thread (Mono must be initialised). */
void slowlog_start(slowlog *sl);
/* The calling pool thread takes a slot (silently none when all are taken). */
void slowlog_thread_register(slowlog *sl);
/* The calling pool thread starts a request: app names the application (e.g.
 * its vpath), method and url are copied (url: url_len bytes, cut). */
void slowlog_begin(slowlog *sl, const char *app, const char *method, const char *url, gsize url_len);
void slowlog_end(slowlog *sl);

#endif
