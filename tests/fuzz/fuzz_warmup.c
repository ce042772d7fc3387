/* libFuzzer harness for warmup_parse_response (warmup.h).
 *
 * Input: the start of an HTTP response as the warm-up reads it (the server's
 * own answer, but an application writes its headers and body). The corpus
 * (tests/fuzz/corpus/warmup/) holds the unit tests' answers and Mono's error
 * pages.
 *
 * Invariants checked (abort on violation):
 *  - the buffer is read within its length (ASan: a copy without a NUL);
 *  - the status is -1 or 100..999, and -1 exactly when the input does not
 *    start with "HTTP/1.D DDD" followed by nothing, ' ' or '\r';
 *  - the detail is set exactly when the status is, is printable ASCII with no
 *    leading, trailing or doubled spaces outside the parentheses' content,
 *    and is bounded (reason and exception text, at most 200 bytes each + 3);
 *  - the result does not depend on whether the detail is asked for.
 */
#include "warmup.h"
#include "fuzz_check.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = g_memdup2(data, size);
    char *detail = NULL;
    int status = warmup_parse_response(buf, size, &detail);
    CHECK(status == warmup_parse_response(buf, size, NULL));
    gboolean shaped = size >= 12 && memcmp(buf, "HTTP/1.", 7) == 0 && g_ascii_isdigit(buf[7]) && buf[8] == ' ' &&
                      g_ascii_isdigit(buf[9]) && g_ascii_isdigit(buf[10]) && g_ascii_isdigit(buf[11]) &&
                      (size == 12 || buf[12] == ' ' || buf[12] == '\r') && buf[9] != '0';
    CHECK(shaped == (status >= 0));
    if (status < 0) {
        CHECK(status == -1);
        CHECK(detail == NULL);
    } else {
        CHECK(status >= 100 && status <= 999);
        CHECK(detail != NULL);
        gsize n = strlen(detail);
        CHECK(n <= 2 * 200 + 3);
        for (gsize i = 0; i < n; i++)
            CHECK(detail[i] >= ' ' && detail[i] <= '~');
        CHECK(n == 0 || (detail[0] != ' ' && detail[n - 1] != ' '));
    }
    g_free(detail);
    g_free(buf);
    return 0;
}
