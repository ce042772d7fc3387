/* log: see log.h. */
#include "log.h"

#include <glib.h>
#include <stdio.h>

static void handler(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer ud)
{
    (void)ud;
    const char *name = (level & G_LOG_LEVEL_ERROR) ? "error"
                     : (level & G_LOG_LEVEL_CRITICAL) ? "critical"
                     : (level & G_LOG_LEVEL_WARNING) ? "warning"
                     : (level & G_LOG_LEVEL_MESSAGE) ? "notice"
                     : (level & G_LOG_LEVEL_INFO) ? "info" : "debug";
    if ((level & G_LOG_LEVEL_DEBUG) && !g_getenv("SCGI_MONO_DEBUG"))
        return;
    GDateTime *now = g_date_time_new_now_utc();
    char *ts = g_date_time_format(now, "%Y-%m-%dT%H:%M:%S");
    fprintf(stderr, "%s.%03dZ %s%s%s: %s\n", ts, g_date_time_get_microsecond(now) / 1000,
            domain && *domain ? domain : "", domain && *domain ? " " : "", name, message);
    fflush(stderr);
    g_free(ts);
    g_date_time_unref(now);
}

void log_init(void)
{
    g_log_set_default_handler(handler, NULL);
}
