/* status_model: see status_model.h. */
#include "status_model.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    int pid, slot, gen;
    sm_state state;
    const stats_block *b;
    gint64 start_mono;
    gint64 rss;          /* bytes, from the last tick; 0 unknown */
} sm_worker;

typedef struct {
    gint64 restarts;
    char *last_exit;
    gboolean held;       /* a live worker has it */
} sm_slot;

/* Counters summed over workers. */
typedef struct {
    gint64 requests;     /* answered (stats_block.finished) */
    stats_app apps[STATS_APP_SLOTS];
} sm_counts;

typedef struct {
    double rps, p50_ms, p99_ms; /* p < 0: no request */
    double cls[5];
    gint64 queue, active;
} sm_sample;

struct status_model {
    char *version;
    int pid, workers_configured, threads;
    char **listen;
    char **app_name, **app_vpath, **app_path;
    int napps;
    gint64 start_mono, start_real;
    GPtrArray *workers;  /* of sm_worker* */
    GArray *slots;       /* of sm_slot */
    sm_counts reaped;    /* of the workers reaped */
    gint64 lost;
    gint64 restarts[SM_N_REASONS];
    gint64 max_active;
    /* the last tick */
    sm_counts prev;
    gint64 prev_mono;
    gint64 last_sample_real;
    sm_sample ring[STATUS_HISTORY];
    int ring_first, ring_n;
    /* the last log line */
    sm_counts log_prev;
    gint64 log_prev_mono, log_prev_restarts;
};

static const char *const state_names[SM_N_STATES] = {"starting", "warming", "ready", "draining"};
static const char *const reason_names[SM_N_REASONS] = {"crash",   "hang",    "request_timeout", "max_requests",
                                                       "max_rss", "max_age", "reload",          "app_change"};
static const char *const class_names[5] = {"1xx", "2xx", "3xx", "4xx", "5xx"};

const char *status_model_state_name(sm_state s)
{
    return s >= 0 && s < SM_N_STATES ? state_names[s] : "unknown";
}

const char *status_model_reason_name(sm_reason r)
{
    return r >= 0 && r < SM_N_REASONS ? reason_names[r] : "none";
}

static void free_server(status_model *m)
{
    g_free(m->version);
    g_strfreev(m->listen);
    g_strfreev(m->app_name);
    g_strfreev(m->app_vpath);
    g_strfreev(m->app_path);
}

void status_model_set_server(status_model *m, const sm_server_info *info)
{
    free_server(m);
    m->version = g_strdup(info->version ? info->version : "");
    m->pid = info->pid;
    m->workers_configured = info->workers_configured;
    m->threads = info->threads;
    m->listen = info->listen ? g_strdupv((char **)info->listen) : g_new0(char *, 1);
    m->napps = MAX(info->napps, 0);
    m->app_name = g_new0(char *, m->napps + 1);
    m->app_vpath = g_new0(char *, m->napps + 1);
    m->app_path = g_new0(char *, m->napps + 1);
    for (int i = 0; i < m->napps; i++) {
        m->app_name[i] = g_strdup(info->apps[i].name ? info->apps[i].name : "");
        m->app_vpath[i] = g_strdup(info->apps[i].vpath ? info->apps[i].vpath : "");
        m->app_path[i] = g_strdup(info->apps[i].path ? info->apps[i].path : "");
    }
}

status_model *status_model_new(const sm_server_info *info, gint64 now_mono, gint64 now_real)
{
    status_model *m = g_new0(status_model, 1);
    status_model_set_server(m, info);
    m->start_mono = m->prev_mono = m->log_prev_mono = now_mono;
    m->start_real = m->last_sample_real = now_real;
    m->workers = g_ptr_array_new_with_free_func(g_free);
    m->slots = g_array_new(FALSE, TRUE, sizeof(sm_slot));
    return m;
}

void status_model_free(status_model *m)
{
    if (!m)
        return;
    free_server(m);
    g_ptr_array_free(m->workers, TRUE);
    for (guint i = 0; i < m->slots->len; i++)
        g_free(g_array_index(m->slots, sm_slot, i).last_exit);
    g_array_free(m->slots, TRUE);
    g_free(m);
}

static sm_worker *find(status_model *m, int pid)
{
    for (guint i = 0; i < m->workers->len; i++) {
        sm_worker *w = g_ptr_array_index(m->workers, i);
        if (w->pid == pid)
            return w;
    }
    return NULL;
}

int status_model_worker_started(status_model *m, int pid, int generation, const stats_block *b, gint64 now_mono)
{
    guint slot = 0;
    while (slot < m->slots->len && g_array_index(m->slots, sm_slot, slot).held)
        slot++;
    if (slot == m->slots->len)
        g_array_set_size(m->slots, slot + 1);
    g_array_index(m->slots, sm_slot, slot).held = TRUE;
    sm_worker *w = g_new0(sm_worker, 1);
    w->pid = pid;
    w->slot = (int)slot;
    w->gen = generation;
    w->b = b;
    w->start_mono = now_mono;
    w->state = SM_STARTING;
    g_ptr_array_add(m->workers, w);
    return (int)slot;
}

void status_model_worker_state(status_model *m, int pid, sm_state state)
{
    sm_worker *w = find(m, pid);
    if (w && state >= 0 && state < SM_N_STATES)
        w->state = state;
}

static void add_counts(sm_counts *to, gint64 requests, const stats_app *apps)
{
    to->requests += requests;
    for (int i = 0; i < STATS_APP_SLOTS; i++) {
        stats_app *t = &to->apps[i];
        const stats_app *a = &apps[i];
        for (int k = 0; k < 5; k++)
            t->responses[k] += a->responses[k];
        for (int k = 0; k < STATS_NBUCKETS; k++)
            t->bucket[k] += a->bucket[k];
        t->sum_us += a->sum_us;
        t->count += a->count;
        t->slow += a->slow;
    }
}

static void add_block(sm_counts *to, const stats_block *b)
{
    stats_snapshot s;
    stats_app apps[STATS_APP_SLOTS];
    stats_read(b, &s);
    stats_read_apps(b, apps);
    add_counts(to, s.finished, apps);
}

void status_model_worker_exited(status_model *m, int pid, const char *text, sm_reason reason, gint64 lost)
{
    sm_worker *w = find(m, pid);
    if (!w)
        return;
    if (w->b)
        add_block(&m->reaped, w->b);
    m->lost += MAX(lost, 0);
    sm_slot *sl = &g_array_index(m->slots, sm_slot, w->slot);
    sl->held = FALSE;
    if (text) {
        g_free(sl->last_exit);
        sl->last_exit = g_strdup(text);
    }
    if (reason >= 0 && reason < SM_N_REASONS) {
        m->restarts[reason]++;
        sl->restarts++;
    }
    int freed = w->slot;
    g_ptr_array_remove(m->workers, w);
    /* an overlapped replacement started while this one still held its slot:
     * it takes the slot over (slots 0 .. workers_configured - 1 stay the
     * places the page shows, with their restarts and last exit) */
    if (freed >= m->workers_configured)
        return;
    sm_worker *extra = NULL;
    for (guint i = 0; i < m->workers->len; i++) {
        sm_worker *x = g_ptr_array_index(m->workers, i);
        if (x->slot >= m->workers_configured && (!extra || x->slot < extra->slot))
            extra = x;
    }
    if (extra) {
        g_array_index(m->slots, sm_slot, extra->slot).held = FALSE;
        extra->slot = freed;
        g_array_index(m->slots, sm_slot, freed).held = TRUE;
    }
}

/* Every worker's counters now: the reaped ones' plus the live ones'. */
static void totals(status_model *m, sm_counts *out)
{
    *out = m->reaped;
    for (guint i = 0; i < m->workers->len; i++) {
        sm_worker *w = g_ptr_array_index(m->workers, i);
        if (w->b)
            add_block(out, w->b);
    }
}

typedef struct {
    gint64 queue, active;
} sm_gauges;

static sm_gauges gauges(status_model *m)
{
    sm_gauges g = {0, 0};
    for (guint i = 0; i < m->workers->len; i++) {
        sm_worker *w = g_ptr_array_index(m->workers, i);
        if (!w->b)
            continue;
        stats_snapshot s;
        stats_read(w->b, &s);
        g.queue += stats_queue(w->b) + s.receiving;
        g.active += s.busy;
    }
    return g;
}

double status_model_quantile(const gint64 bucket[STATS_NBUCKETS], double q)
{
    gint64 total = 0;
    for (int k = 0; k < STATS_NBUCKETS; k++)
        total += MAX(bucket[k], 0);
    if (total <= 0)
        return -1;
    double rank = q * (double)total, cum = 0;
    for (int k = 0; k < STATS_NBUCKETS; k++) {
        double c = (double)MAX(bucket[k], 0);
        if (c > 0 && cum + c >= rank) {
            if (k == STATS_NBUCKETS - 1)
                return (double)stats_bucket_le_us[STATS_NBUCKETS - 2];
            double lo = k ? (double)stats_bucket_le_us[k - 1] : 0, hi = (double)stats_bucket_le_us[k];
            return lo + (hi - lo) * (rank - cum) / c;
        }
        cum += c;
    }
    return (double)stats_bucket_le_us[STATS_NBUCKETS - 2];
}

static gint64 resident_bytes(int pid)
{
    char path[64], buf[128];
    snprintf(path, sizeof path, "/proc/%d/statm", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    unsigned long size = 0, resident = 0;
    gboolean ok = fgets(buf, sizeof buf, f) && sscanf(buf, "%lu %lu", &size, &resident) == 2;
    fclose(f);
    return ok ? (gint64)resident * sysconf(_SC_PAGESIZE) : 0;
}

void status_model_tick(status_model *m, gint64 now_mono, gint64 now_real)
{
    sm_counts cur;
    totals(m, &cur);
    double dt = (double)MAX(now_mono - m->prev_mono, 1) / G_USEC_PER_SEC;
    sm_sample smp;
    memset(&smp, 0, sizeof smp);
    smp.rps = (double)MAX(cur.requests - m->prev.requests, 0) / dt;
    gint64 delta[STATS_NBUCKETS] = {0};
    for (int i = 0; i < STATS_APP_SLOTS; i++) {
        for (int k = 0; k < 5; k++)
            smp.cls[k] += (double)MAX(cur.apps[i].responses[k] - m->prev.apps[i].responses[k], 0);
        for (int k = 0; k < STATS_NBUCKETS; k++)
            delta[k] += MAX(cur.apps[i].bucket[k] - m->prev.apps[i].bucket[k], 0);
    }
    for (int k = 0; k < 5; k++)
        smp.cls[k] /= dt;
    double p50 = status_model_quantile(delta, 0.5), p99 = status_model_quantile(delta, 0.99);
    smp.p50_ms = p50 < 0 ? -1 : p50 / 1000;
    smp.p99_ms = p99 < 0 ? -1 : p99 / 1000;
    sm_gauges g = gauges(m);
    smp.queue = g.queue;
    smp.active = g.active;
    m->max_active = MAX(m->max_active, g.active);
    int at = (m->ring_first + m->ring_n) % STATUS_HISTORY;
    m->ring[at] = smp;
    if (m->ring_n < STATUS_HISTORY)
        m->ring_n++;
    else
        m->ring_first = (m->ring_first + 1) % STATUS_HISTORY;
    m->prev = cur;
    m->prev_mono = now_mono;
    m->last_sample_real = now_real;
    for (guint i = 0; i < m->workers->len; i++) {
        sm_worker *w = g_ptr_array_index(m->workers, i);
        w->rss = resident_bytes(w->pid);
    }
}

/* ---- JSON ---- */

void status_model_json_string(GString *out, const char *s, gsize len)
{
    g_string_append_c(out, '"');
    const char *p = s, *end = s + len;
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x80) {
            switch (c) {
            case '"': g_string_append(out, "\\\""); break;
            case '\\': g_string_append(out, "\\\\"); break;
            case '\n': g_string_append(out, "\\n"); break;
            case '\r': g_string_append(out, "\\r"); break;
            case '\t': g_string_append(out, "\\t"); break;
            default:
                if (c < 0x20 || c == 0x7f)
                    g_string_append_printf(out, "\\u%04x", c);
                else
                    g_string_append_c(out, (char)c);
            }
            p++;
            continue;
        }
        gunichar u = g_utf8_get_char_validated(p, end - p);
        if (u == (gunichar)-1 || u == (gunichar)-2) {
            g_string_append(out, "\\ufffd");
            p++;
            continue;
        }
        const char *next = g_utf8_next_char(p);
        g_string_append_len(out, p, next - p);
        p = next;
    }
    g_string_append_c(out, '"');
}

static void jstr(GString *o, const char *s)
{
    if (!s)
        g_string_append(o, "null");
    else
        status_model_json_string(o, s, strlen(s));
}

static void jnum(GString *o, double v)
{
    if (!isfinite(v)) {
        g_string_append(o, "null");
        return;
    }
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    g_string_append(o, g_ascii_formatd(buf, sizeof buf, "%.3f", v));
}

static void jms(GString *o, double ms)
{
    if (ms < 0)
        g_string_append(o, "null");
    else
        jnum(o, ms);
}

static void jint(GString *o, gint64 v)
{
    g_string_append_printf(o, "%" G_GINT64_FORMAT, v);
}

static const char *app_name(status_model *m, int app)
{
    return app >= 0 && app < m->napps && app < STATS_MAX_APPS ? m->app_name[app] : STATUS_OTHER_APP;
}

typedef struct {
    int pid;
    const char *app;
    stats_current c;
    double running;
} sm_running;

static gint by_running(gconstpointer a, gconstpointer b)
{
    double x = ((const sm_running *)a)->running, y = ((const sm_running *)b)->running;
    return x < y ? 1 : x > y ? -1 : 0;
}

static double secs(gint64 us)
{
    return (double)us / G_USEC_PER_SEC;
}

static gint64 sum_restarts(status_model *m)
{
    gint64 n = 0;
    for (int r = 0; r < SM_N_REASONS; r++)
        n += m->restarts[r];
    return n;
}

static const sm_sample *last_sample(status_model *m)
{
    return m->ring_n ? &m->ring[(m->ring_first + m->ring_n - 1) % STATUS_HISTORY] : NULL;
}

#define HIST_FIELD(name, expr)                                                                                         \
    do {                                                                                                               \
        g_string_append(o, ",\"" name "\":[");                                                                          \
        for (int i = 0; i < m->ring_n; i++) {                                                                          \
            const sm_sample *x = &m->ring[(m->ring_first + i) % STATUS_HISTORY];                                       \
            if (i)                                                                                                     \
                g_string_append_c(o, ',');                                                                             \
            expr;                                                                                                      \
        }                                                                                                              \
        g_string_append_c(o, ']');                                                                                     \
    } while (0)

char *status_model_json(status_model *m, gint64 now_mono, gint64 now_real, gsize *len)
{
    GString *o = g_string_sized_new(8192);
    double real_now = secs(now_real);
    /* server */
    g_string_append(o, "{\"server\":{\"version\":");
    jstr(o, m->version);
    g_string_append_printf(o, ",\"pid\":%d,\"start_time\":", m->pid);
    jnum(o, secs(m->start_real));
    g_string_append(o, ",\"uptime\":");
    jnum(o, secs(now_mono - m->start_mono));
    g_string_append_printf(o, ",\"workers_configured\":%d,\"threads\":%d,\"listen\":[", m->workers_configured,
                           m->threads);
    for (int i = 0; m->listen[i]; i++) {
        if (i)
            g_string_append_c(o, ',');
        jstr(o, m->listen[i]);
    }
    g_string_append(o, "],\"apps\":[");
    for (int i = 0; i < m->napps; i++) {
        g_string_append(o, i ? ",{\"name\":" : "{\"name\":");
        jstr(o, m->app_name[i]);
        g_string_append(o, ",\"vpath\":");
        jstr(o, m->app_vpath[i]);
        g_string_append(o, ",\"path\":");
        jstr(o, m->app_path[i]);
        g_string_append_c(o, '}');
    }
    g_string_append(o, "]}");

    /* totals */
    sm_counts t;
    totals(m, &t);
    sm_gauges g = gauges(m);
    gint64 cls[5] = {0}, slow = 0;
    for (int i = 0; i < STATS_APP_SLOTS; i++) {
        for (int k = 0; k < 5; k++)
            cls[k] += t.apps[i].responses[k];
        slow += t.apps[i].slow;
    }
    const sm_sample *ls = last_sample(m);
    g_string_append(o, ",\"totals\":{\"requests\":");
    jint(o, t.requests);
    g_string_append(o, ",\"responses\":{");
    for (int k = 0; k < 5; k++)
        g_string_append_printf(o, "%s\"%s\":%" G_GINT64_FORMAT, k ? "," : "", class_names[k], cls[k]);
    g_string_append_printf(o,
                           "},\"lost\":%" G_GINT64_FORMAT ",\"active\":%" G_GINT64_FORMAT ",\"queue\":%" G_GINT64_FORMAT
                           ",\"max_active\":%" G_GINT64_FORMAT ",\"slow_requests\":%" G_GINT64_FORMAT
                           ",\"requests_per_second\":",
                           m->lost, g.active, g.queue, MAX(m->max_active, g.active), slow);
    jnum(o, ls ? ls->rps : 0);
    g_string_append(o, ",\"p50_ms\":");
    jms(o, ls ? ls->p50_ms : -1);
    g_string_append(o, ",\"p99_ms\":");
    jms(o, ls ? ls->p99_ms : -1);
    g_string_append(o, ",\"restarts\":");
    jint(o, sum_restarts(m));
    g_string_append(o, ",\"restarts_by_reason\":{");
    for (int r = 0; r < SM_N_REASONS; r++)
        g_string_append_printf(o, "%s\"%s\":%" G_GINT64_FORMAT, r ? "," : "", reason_names[r], m->restarts[r]);
    g_string_append(o, "}}");

    /* history */
    g_string_append(o, ",\"history\":{\"interval\":1,\"end\":");
    jnum(o, secs(m->last_sample_real));
    HIST_FIELD("rps", jnum(o, x->rps));
    HIST_FIELD("p50_ms", jms(o, x->p50_ms));
    HIST_FIELD("p99_ms", jms(o, x->p99_ms));
    HIST_FIELD("1xx", jnum(o, x->cls[0]));
    HIST_FIELD("2xx", jnum(o, x->cls[1]));
    HIST_FIELD("3xx", jnum(o, x->cls[2]));
    HIST_FIELD("4xx", jnum(o, x->cls[3]));
    HIST_FIELD("5xx", jnum(o, x->cls[4]));
    HIST_FIELD("queue", jint(o, x->queue));
    HIST_FIELD("active", jint(o, x->active));
    g_string_append_c(o, '}');

    /* workers, and the requests they serve */
    GArray *running = g_array_new(FALSE, FALSE, sizeof(sm_running));
    g_string_append(o, ",\"workers\":[");
    for (guint i = 0; i < m->workers->len; i++) {
        sm_worker *w = g_ptr_array_index(m->workers, i);
        stats_snapshot s;
        stats_read(w->b, &s);
        const sm_slot *sl = &g_array_index(m->slots, sm_slot, w->slot);
        g_string_append_printf(o, "%s{\"slot\":%d,\"pid\":%d,\"generation\":%d,\"state\":\"%s\",\"start_time\":",
                               i ? "," : "", w->slot, w->pid, w->gen, status_model_state_name(w->state));
        jnum(o, real_now - secs(now_mono - w->start_mono));
        g_string_append(o, ",\"uptime\":");
        jnum(o, secs(now_mono - w->start_mono));
        g_string_append_printf(o,
                               ",\"requests\":%" G_GINT64_FORMAT ",\"active\":%d,\"threads\":%d,\"rss\":%" G_GINT64_FORMAT
                               ",\"restarts\":%" G_GINT64_FORMAT ",\"last_exit\":",
                               s.finished, s.busy, w->b ? w->b->nthreads : 0, w->rss, sl->restarts);
        jstr(o, sl->last_exit);
        g_string_append_c(o, '}');
        for (int k = 0; w->b && k < w->b->nthreads; k++) {
            sm_running r = {.pid = w->pid};
            if (!stats_read_thread(w->b, k, &r.c))
                continue;
            r.app = app_name(m, r.c.app);
            r.running = MAX(secs(now_mono - r.c.since), 0);
            g_array_append_val(running, r);
        }
    }
    g_string_append(o, "],\"requests\":[");
    g_array_sort(running, by_running);
    for (guint i = 0; i < running->len && i < 1000; i++) {
        sm_running *r = &g_array_index(running, sm_running, i);
        g_string_append_printf(o, "%s{\"worker\":%d,\"app\":", i ? "," : "", r->pid);
        if (r->c.app < 0)
            g_string_append(o, "null");
        else
            jstr(o, r->app);
        g_string_append(o, ",\"method\":");
        status_model_json_string(o, r->c.method, strlen(r->c.method));
        g_string_append(o, ",\"uri\":");
        status_model_json_string(o, r->c.uri, r->c.uri_len);
        g_string_append(o, ",\"running\":");
        jnum(o, r->running);
        g_string_append_c(o, '}');
    }
    g_array_free(running, TRUE);
    g_string_append(o, "]}\n");
    if (len)
        *len = o->len;
    return g_string_free(o, FALSE);
}

/* ---- Prometheus text format 0.0.4 ---- */

static void plabel(GString *o, const char *v)
{
    char *valid = g_utf8_make_valid(v ? v : "", -1);
    for (const char *p = valid; *p; p++) {
        if (*p == '\\')
            g_string_append(o, "\\\\");
        else if (*p == '"')
            g_string_append(o, "\\\"");
        else if (*p == '\n')
            g_string_append(o, "\\n");
        else
            g_string_append_c(o, *p);
    }
    g_free(valid);
}

static void phead(GString *o, const char *name, const char *type, const char *help)
{
    g_string_append_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void pnum(GString *o, double v)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    g_string_append(o, g_ascii_formatd(buf, sizeof buf, "%.6f", v));
}

/* The application slots shown: the configured ones (up to STATS_MAX_APPS) and "(other)". */
static int shown_app(status_model *m, int i)
{
    return i < MIN(m->napps, STATS_MAX_APPS) || i == STATS_APP_OTHER;
}

char *status_model_metrics(status_model *m, gint64 now_mono, gint64 now_real, gsize *len)
{
    (void)now_real;
    GString *o = g_string_sized_new(8192);
    sm_counts t;
    totals(m, &t);
    sm_gauges g = gauges(m);

    phead(o, "scgimono_requests_total", "counter", "Requests answered, by application and status class.");
    for (int i = 0; i < STATS_APP_SLOTS; i++) {
        if (!shown_app(m, i))
            continue;
        for (int k = 0; k < 5; k++) {
            g_string_append(o, "scgimono_requests_total{app=\"");
            plabel(o, app_name(m, i));
            g_string_append_printf(o, "\",code=\"%s\"} %" G_GINT64_FORMAT "\n", class_names[k], t.apps[i].responses[k]);
        }
    }
    phead(o, "scgimono_request_duration_seconds", "histogram",
          "Time from a worker thread taking a request to its end, by application.");
    for (int i = 0; i < STATS_APP_SLOTS; i++) {
        if (!shown_app(m, i))
            continue;
        gint64 cum = 0;
        for (int k = 0; k < STATS_NBUCKETS; k++) {
            cum += t.apps[i].bucket[k];
            g_string_append(o, "scgimono_request_duration_seconds_bucket{app=\"");
            plabel(o, app_name(m, i));
            if (k < STATS_NBUCKETS - 1) {
                char buf[G_ASCII_DTOSTR_BUF_SIZE];
                g_string_append_printf(o, "\",le=\"%s\"} %" G_GINT64_FORMAT "\n",
                                       g_ascii_formatd(buf, sizeof buf, "%g", secs(stats_bucket_le_us[k])), cum);
            } else {
                g_string_append_printf(o, "\",le=\"+Inf\"} %" G_GINT64_FORMAT "\n", cum);
            }
        }
        g_string_append(o, "scgimono_request_duration_seconds_sum{app=\"");
        plabel(o, app_name(m, i));
        g_string_append(o, "\"} ");
        pnum(o, secs(t.apps[i].sum_us));
        g_string_append(o, "\nscgimono_request_duration_seconds_count{app=\"");
        plabel(o, app_name(m, i));
        g_string_append_printf(o, "\"} %" G_GINT64_FORMAT "\n", cum);
    }
    gint64 slow = 0;
    for (int i = 0; i < STATS_APP_SLOTS; i++)
        slow += t.apps[i].slow;
    phead(o, "scgimono_slow_requests_total", "counter", "Requests that ran past slow_request_timeout.");
    g_string_append_printf(o, "scgimono_slow_requests_total %" G_GINT64_FORMAT "\n", slow);
    phead(o, "scgimono_queue_length", "gauge",
          "Requests being received or handed to a worker's thread pool and not yet begun.");
    g_string_append_printf(o, "scgimono_queue_length %" G_GINT64_FORMAT "\n", g.queue);
    phead(o, "scgimono_active_requests", "gauge", "Requests a worker thread is serving.");
    g_string_append_printf(o, "scgimono_active_requests %" G_GINT64_FORMAT "\n", g.active);
    phead(o, "scgimono_workers", "gauge", "Worker processes by state.");
    for (int st = 0; st < SM_N_STATES; st++) {
        int n = 0;
        for (guint i = 0; i < m->workers->len; i++)
            n += ((sm_worker *)g_ptr_array_index(m->workers, i))->state == (sm_state)st;
        g_string_append_printf(o, "scgimono_workers{state=\"%s\"} %d\n", state_names[st], n);
    }
    phead(o, "scgimono_worker_restarts_total", "counter", "Worker processes replaced, by reason.");
    for (int r = 0; r < SM_N_REASONS; r++)
        g_string_append_printf(o, "scgimono_worker_restarts_total{reason=\"%s\"} %" G_GINT64_FORMAT "\n",
                               reason_names[r], m->restarts[r]);
    phead(o, "scgimono_resident_memory_bytes", "gauge", "Resident memory of each worker process.");
    for (guint i = 0; i < m->workers->len; i++) {
        sm_worker *w = g_ptr_array_index(m->workers, i);
        g_string_append_printf(o, "scgimono_resident_memory_bytes{pid=\"%d\"} %" G_GINT64_FORMAT "\n", w->pid, w->rss);
    }
    phead(o, "scgimono_lost_requests_total", "counter", "Requests lost with a worker process that died.");
    g_string_append_printf(o, "scgimono_lost_requests_total %" G_GINT64_FORMAT "\n", m->lost);
    phead(o, "scgimono_start_time_seconds", "gauge", "Start time of the server since the Unix epoch.");
    g_string_append(o, "scgimono_start_time_seconds ");
    pnum(o, secs(m->start_real));
    g_string_append_c(o, '\n');
    phead(o, "scgimono_uptime_seconds", "gauge", "Time since the server started.");
    g_string_append(o, "scgimono_uptime_seconds ");
    pnum(o, secs(now_mono - m->start_mono));
    g_string_append_c(o, '\n');
    phead(o, "scgimono_up", "gauge", "1: the supervisor answers.");
    g_string_append(o, "scgimono_up 1\n");
    if (len)
        *len = o->len;
    return g_string_free(o, FALSE);
}

char *status_model_log_line(status_model *m, gint64 now_mono)
{
    sm_counts t;
    totals(m, &t);
    sm_gauges g = gauges(m);
    double dt = (double)MAX(now_mono - m->log_prev_mono, 1) / G_USEC_PER_SEC;
    gint64 cls[5] = {0}, rss = 0, restarts = sum_restarts(m);
    for (int i = 0; i < STATS_APP_SLOTS; i++)
        for (int k = 0; k < 5; k++)
            cls[k] += t.apps[i].responses[k] - m->log_prev.apps[i].responses[k];
    for (guint i = 0; i < m->workers->len; i++)
        rss += ((sm_worker *)g_ptr_array_index(m->workers, i))->rss;
    gint64 n = t.requests - m->log_prev.requests;
    char *line = g_strdup_printf(
        "statistics: %" G_GINT64_FORMAT " requests (%" G_GINT64_FORMAT " in %.1f s, %.1f/s); responses 1xx %" G_GINT64_FORMAT
        " 2xx %" G_GINT64_FORMAT " 3xx %" G_GINT64_FORMAT " 4xx %" G_GINT64_FORMAT " 5xx %" G_GINT64_FORMAT
        "; queue %" G_GINT64_FORMAT "; busy %" G_GINT64_FORMAT "; resident %.1f MiB in %u worker(s); restarts %" G_GINT64_FORMAT,
        t.requests, n, dt, (double)n / dt, cls[0], cls[1], cls[2], cls[3], cls[4], g.queue, g.active,
        (double)rss / (1024 * 1024), m->workers->len, restarts - m->log_prev_restarts);
    m->log_prev = t;
    m->log_prev_mono = now_mono;
    m->log_prev_restarts = restarts;
    return line;
}
