/* notify: see notify.h. */
#include "notify.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

static gboolean active;      /* NOTIFY_SOCKET was set at notify_init */
static gint64 watchdog_us;   /* interval between WATCHDOG=1, 0 = none */
static gint64 watchdog_next; /* monotonic µs of the next one */
static notify_state sent_state = NOTIFY_STARTING;
static char *sent_status;
static gboolean warned;

static void send_text(const char *text)
{
    int r = sd_notify(0, text);
    if (r < 0 && !warned) {
        warned = TRUE;
        g_warning("cannot notify the service manager (NOTIFY_SOCKET): %s", g_strerror(-r));
    }
}

void notify_init(void)
{
    active = g_getenv("NOTIFY_SOCKET") != NULL;
    uint64_t usec = 0;
    if (active && sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        watchdog_us = (gint64)usec / 2;
        watchdog_next = 0; /* the first one at once */
    }
    if (active)
        g_message("service manager: notifying it (NOTIFY_SOCKET)%s", watchdog_us ? "" : ", no watchdog asked for");
    if (watchdog_us)
        g_message("service manager: watchdog every %.3f s (WATCHDOG_USEC=%" G_GUINT64_FORMAT ")",
                  (double)watchdog_us / G_USEC_PER_SEC, (guint64)usec);
}

void notify_update(notify_state state, const char *status)
{
    if (!active)
        return;
    if (sent_state == NOTIFY_STOPPING)
        state = NOTIFY_STOPPING; /* final: only the status text changes after it */
    gboolean status_changed = g_strcmp0(status, sent_status) != 0;
    if (state == sent_state && !status_changed)
        return;
    GString *msg = g_string_new(NULL);
    if (state != sent_state) {
        switch (state) {
        case NOTIFY_READY:
            g_string_append_printf(msg, "READY=1\nMAINPID=%d\n", (int)getpid());
            break;
        case NOTIFY_RELOADING: {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            g_string_append_printf(msg, "RELOADING=1\nMONOTONIC_USEC=%" G_GUINT64_FORMAT "\n",
                                   (guint64)ts.tv_sec * 1000000u + (guint64)ts.tv_nsec / 1000u);
            break;
        }
        case NOTIFY_STOPPING:
            g_string_append(msg, "STOPPING=1\n");
            break;
        case NOTIFY_STARTING:
            break;
        }
    }
    if (status)
        g_string_append_printf(msg, "STATUS=%s\n", status);
    if (msg->len)
        send_text(msg->str);
    g_string_free(msg, TRUE);
    sent_state = state;
    g_free(sent_status);
    sent_status = g_strdup(status);
}

void notify_tick(gint64 now_us)
{
    if (!watchdog_us || now_us < watchdog_next)
        return;
    send_text("WATCHDOG=1");
    watchdog_next = now_us + watchdog_us;
}

int notify_timeout_ms(gint64 now_us, int max_ms)
{
    if (!watchdog_us)
        return max_ms;
    gint64 left = watchdog_next - now_us;
    if (left <= 0)
        return 0;
    return (int)MIN((gint64)max_ms, (left + 999) / 1000);
}

void notify_scrub_env(void)
{
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
}
