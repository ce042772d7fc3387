/* confcheck: see confcheck.h. */
#include "confcheck.h"
#include "privs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_MESSAGE 300

/* Printable ASCII, at most MAX_MESSAGE bytes of it (then "..."). */
static char *clean_message(const char *s)
{
    GString *o = g_string_new(NULL);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (o->len > MAX_MESSAGE - 4) { /* room for one more escape */
            g_string_append(o, "...");
            break;
        }
        /* GLib's messages quote with U+201C/U+201D and use U+2014 */
        if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0x9c || p[2] == 0x9d || p[2] == 0x94)) {
            g_string_append_c(o, p[2] == 0x94 ? '-' : '\'');
            p += 2;
        } else if (*p >= 0x20 && *p < 0x7f)
            g_string_append_c(o, (char)*p);
        else if (*p == '\n' || *p == '\t')
            g_string_append_c(o, ' ');
        else
            g_string_append_printf(o, "\\x%02x", *p);
    }
    return g_string_free(o, FALSE);
}

static gboolean has(const char *data, gsize len, const char *needle)
{
    return memmem(data, len, needle, strlen(needle)) != NULL;
}

/* The encoding="..." of a leading <?xml ...?> declaration (ASCII-compatible
 * text), or NULL. */
static char *declared_encoding(const char *data, gsize len)
{
    if (len < 5 || memcmp(data, "<?xml", 5) != 0)
        return NULL;
    const char *end = memmem(data, len, "?>", 2);
    if (!end)
        return NULL;
    char *decl = g_strndup(data, end - data);
    char *enc = NULL, *p = strstr(decl, "encoding");
    if (p) {
        p += strlen("encoding");
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        if (*p == '=') {
            p++;
            while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
                p++;
            if (*p == '"' || *p == '\'') {
                char *q = strchr(p + 1, *p);
                if (q && q - p - 1 > 0 && q - p - 1 < 64)
                    enc = g_strndup(p + 1, q - p - 1);
            }
        }
    }
    g_free(decl);
    return enc;
}

static void line_of_offset(const char *data, gsize off, int *line, int *column)
{
    int l = 1, c = 1;
    for (gsize i = 0; i < off; i++) {
        if (data[i] == '\n') {
            l++;
            c = 1;
        } else {
            c++;
        }
    }
    if (line)
        *line = l;
    if (column)
        *column = c;
}

static confcheck_xml_result set(confcheck_xml_result r, char **message, const char *text)
{
    if (message)
        *message = clean_message(text);
    return r;
}

/* GMarkup takes a second root element; XML does not. */
typedef struct {
    int depth;
    int roots;
} shape;

static void on_start(GMarkupParseContext *ctx, const char *name, const char **an, const char **av, gpointer data,
                     GError **error)
{
    (void)ctx, (void)an, (void)av;
    shape *sh = data;
    if (sh->depth++ == 0 && ++sh->roots > 1)
        g_set_error(error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                    "a second root element '%s' (a document has one)", name);
}

static void on_end(GMarkupParseContext *ctx, const char *name, gpointer data, GError **error)
{
    (void)ctx, (void)name, (void)error;
    ((shape *)data)->depth--;
}

static confcheck_xml_result judge_utf8(const char *data, gsize len, int *line, int *column, char **message)
{
    static const GMarkupParser parser = { .start_element = on_start, .end_element = on_end };
    shape sh = { 0 };
    GMarkupParseContext *ctx = g_markup_parse_context_new(&parser, 0, &sh, NULL);
    GError *err = NULL;
    confcheck_xml_result r = CONFCHECK_XML_OK;
    if (!g_markup_parse_context_parse(ctx, data, (gssize)len, &err) || !g_markup_parse_context_end_parse(ctx, &err)) {
        int l = 0, c = 0, n = 0;
        g_markup_parse_context_get_position(ctx, &l, &c);
        /* GLib's own "Error on line N char M: " is where the error is; the
         * context's position may be past it (an entity's end) */
        const char *text = err->message;
        int ml = 0, mc = 0;
        if (sscanf(text, "Error on line %d char %d: %n", &ml, &mc, &n) == 2 && n > 0) {
            l = ml, c = mc, text += n;
        } else if (n = 0, sscanf(text, "Error on line %d: %n", &ml, &n) == 1 && n > 0) {
            if (ml != l)
                c = 1;
            l = ml, text += n;
        }
        char *rest = g_strdup(text);
        g_free(err->message);
        err->message = rest;
        if (line)
            *line = l > 0 ? l : 1;
        if (column)
            *column = c > 0 ? c : 1;
        r = set(CONFCHECK_XML_BAD, message, err->message);
        g_error_free(err);
    }
    g_markup_parse_context_free(ctx);
    return r;
}

/* g_convert failed on the text (else: the converter could not be had, which
 * says nothing about the file). */
static gboolean bad_bytes(const GError *err)
{
    return g_error_matches(err, G_CONVERT_ERROR, G_CONVERT_ERROR_ILLEGAL_SEQUENCE) ||
           g_error_matches(err, G_CONVERT_ERROR, G_CONVERT_ERROR_PARTIAL_INPUT);
}

confcheck_xml_result confcheck_xml(const char *data, gsize len, int *line, int *column, char **message)
{
    if (message)
        *message = NULL;
    if (!data) { /* an empty buffer may come as NULL */
        data = "";
        len = 0;
    }
    /* UTF-16 by its BOM */
    if (len >= 2 && (((guchar)data[0] == 0xff && (guchar)data[1] == 0xfe) ||
                     ((guchar)data[0] == 0xfe && (guchar)data[1] == 0xff))) {
        const char *from = (guchar)data[0] == 0xff ? "UTF-16LE" : "UTF-16BE";
        gsize done = 0, out_len = 0;
        GError *err = NULL;
        char *u = g_convert(data + 2, len - 2, "UTF-8", from, &done, &out_len, &err);
        if (!u) {
            confcheck_xml_result r;
            if (!bad_bytes(err)) {
                r = set(CONFCHECK_XML_UNJUDGED, message, "UTF-16 cannot be converted here");
            } else {
                char *ok = g_convert(data + 2, done, "UTF-8", from, NULL, NULL, NULL);
                line_of_offset(ok ? ok : "", ok ? strlen(ok) : 0, line, column);
                g_free(ok);
                r = set(CONFCHECK_XML_BAD, message, "not valid UTF-16");
            }
            g_error_free(err);
            return r;
        }
        confcheck_xml_result r = confcheck_xml(u, out_len, line, column, message);
        g_free(u);
        return r;
    }
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
        data += 3;
        len -= 3;
    }
    /* GMarkup does not read DTDs: entities declared there would be errors to it */
    if (has(data, len, "<!DOCTYPE"))
        return set(CONFCHECK_XML_UNJUDGED, message, "a DOCTYPE is not checked");
    char *enc = declared_encoding(data, len);
    confcheck_xml_result r;
    if (!enc || g_ascii_strcasecmp(enc, "utf-8") == 0 || g_ascii_strcasecmp(enc, "utf8") == 0 ||
        /* a file without a BOM that says UTF-16 is read as UTF-8 by .NET too */
        g_ascii_strncasecmp(enc, "utf-16", 6) == 0) {
        r = judge_utf8(data, len, line, column, message);
    } else {
        gsize done = 0, out_len = 0;
        GError *err = NULL;
        char *u = g_convert(data, len, "UTF-8", enc, &done, &out_len, &err);
        if (u) {
            r = judge_utf8(u, out_len, line, column, message);
            g_free(u);
        } else if (!bad_bytes(err)) {
            char *m = g_strdup_printf("encoding '%s' is not known here", enc);
            r = set(CONFCHECK_XML_UNJUDGED, message, m);
            g_free(m);
        } else {
            char *m = g_strdup_printf("not valid %s", enc);
            line_of_offset(data, MIN(done, len), line, column);
            r = set(CONFCHECK_XML_BAD, message, m);
            g_free(m);
        }
        g_clear_error(&err);
    }
    g_free(enc);
    return r;
}

static void add(GPtrArray *problems, guint *n, char *msg)
{
    g_ptr_array_add(problems, msg);
    (*n)++;
}

static void check_web_config(const app_spec *a, GPtrArray *problems, guint *n)
{
    char *file = g_build_filename(a->path, "web.config", NULL);
    char *data = NULL;
    gsize len = 0;
    GError *err = NULL;
    struct stat st;
    if (stat(file, &st) != 0) {
        if (errno != ENOENT)
            add(problems, n, g_strdup_printf("app:%s: %s: %s", a->name, file, g_strerror(errno)));
    } else if (S_ISDIR(st.st_mode)) {
        add(problems, n, g_strdup_printf("app:%s: %s: is a directory", a->name, file));
    } else if (access(file, R_OK) != 0) {
        add(problems, n, g_strdup_printf("app:%s: %s: not readable by the workers' user: %s", a->name, file,
                                         g_strerror(errno)));
    } else if (!g_file_get_contents(file, &data, &len, &err)) {
        add(problems, n, g_strdup_printf("app:%s: %s", a->name, err->message));
        g_error_free(err);
    } else {
        int line = 0, col = 0;
        char *msg = NULL;
        if (confcheck_xml(data, len, &line, &col, &msg) == CONFCHECK_XML_BAD)
            add(problems, n, g_strdup_printf("app:%s: %s:%d:%d: not well-formed XML: %s", a->name, file, line, col,
                                             msg));
        g_free(msg);
        g_free(data);
    }
    g_free(file);
}

guint confcheck_config(const config *c, GPtrArray *problems)
{
    guint n = 0;
    GError *error = NULL;
    privs *pv = c ? privs_resolve(c, &error) : NULL;
    if (c && !pv) {
        add(problems, &n, g_strdup(error->message));
        g_clear_error(&error);
    }
    for (guint i = 0; c && i < c->apps->len; i++) {
        const app_spec *a = g_ptr_array_index(c->apps, i);
        struct stat st;
        if (stat(a->path, &st) != 0) {
            add(problems, &n, g_strdup_printf("app:%s: directory %s: %s", a->name, a->path, g_strerror(errno)));
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            add(problems, &n, g_strdup_printf("app:%s: %s: not a directory", a->name, a->path));
            continue;
        }
        int e = privs_can_read_dir(pv, a->path);
        if (e) {
            add(problems, &n, g_strdup_printf("app:%s: directory %s: not readable and searchable by the workers' "
                                              "user%s%s: %s%s", a->name, a->path, pv && pv->drop ? " " : "",
                                              pv && pv->drop ? pv->user : "", g_strerror(e),
                                              pv && pv->drop ? " (every directory above it must be searchable "
                                                               "by that user too)" : ""));
            continue;
        }
        check_web_config(a, problems, &n);
    }
    privs_free(pv);
    return n;
}
