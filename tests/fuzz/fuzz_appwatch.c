/* libFuzzer harness for appwatch_counts (which changed paths restart an
 * application).
 *
 * Input: a byte for is_dir, then a relative path (cut at the first NUL). The
 * corpus (tests/fuzz/corpus/appwatch/) holds the unit-test table's paths.
 *
 * Invariants checked (abort on violation):
 *  - the answer does not depend on the case of ASCII letters;
 *  - a path with a "web.config" file as its last component always counts, and
 *    nothing counts below a component that is neither App_Code, bin,
 *    App_Browsers nor App_GlobalResources unless it is a web.config;
 *  - "x/" + a path that counts and is not a web.config does not count (the
 *    other rules hold at the root only).
 */
#include "appwatch.h"
#include "fuzz_check.h"

#include <string.h>

static gboolean is_web_config(const char *rel, gboolean is_dir)
{
    const char *base = strrchr(rel, '/');
    return !is_dir && g_ascii_strcasecmp(base ? base + 1 : rel, "web.config") == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    gboolean is_dir = data[0] & 1;
    char *rel = g_strndup((const char *)data + 1, size - 1);
    gboolean counts = appwatch_counts(rel, is_dir);
    char *up = g_ascii_strup(rel, -1), *down = g_ascii_strdown(rel, -1);
    CHECK(appwatch_counts(up, is_dir) == counts);
    CHECK(appwatch_counts(down, is_dir) == counts);
    if (is_web_config(rel, is_dir) && *rel)
        CHECK(counts);
    const char *slash = strchr(down, '/');
    if (counts && slash && !is_web_config(rel, is_dir)) {
        gsize n = (gsize)(slash - down);
        CHECK((n == 8 && !strncmp(down, "app_code", n)) || (n == 3 && !strncmp(down, "bin", n)) ||
              (n == 12 && !strncmp(down, "app_browsers", n)) ||
              (n == 19 && !strncmp(down, "app_globalresources", n)));
    }
    if (counts && !is_web_config(rel, is_dir)) {
        char *nested = g_strconcat("x/", rel, NULL);
        CHECK(!appwatch_counts(nested, is_dir));
        g_free(nested);
    }
    g_free(up);
    g_free(down);
    g_free(rel);
    return 0;
}
