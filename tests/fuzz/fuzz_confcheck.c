/* libFuzzer harness for confcheck_xml (confcheck.h).
 *
 * Input: a web.config's bytes. The corpus (tests/fuzz/corpus/confcheck/)
 * holds the project's web.config files and broken variants of them.
 *
 * Invariants checked (abort on violation):
 *  - the buffer is read within its length (ASan: a copy without a NUL);
 *  - the result is one of the three, the same when line/column/message are
 *    not asked for;
 *  - BAD has line >= 1 and column >= 1 and a message; OK has none;
 *  - the message is printable ASCII, at most 303 bytes.
 */
#include "confcheck.h"
#include "fuzz_check.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = g_memdup2(data, size);
    int line = 0, col = 0;
    char *msg = NULL;
    confcheck_xml_result r = confcheck_xml(buf, size, &line, &col, &msg);
    CHECK(r == CONFCHECK_XML_OK || r == CONFCHECK_XML_BAD || r == CONFCHECK_XML_UNJUDGED);
    CHECK(r == confcheck_xml(buf, size, NULL, NULL, NULL));
    if (r == CONFCHECK_XML_OK) {
        CHECK(msg == NULL);
    } else {
        CHECK(msg != NULL);
        gsize n = strlen(msg);
        CHECK(n <= 303);
        for (gsize i = 0; i < n; i++)
            CHECK(msg[i] >= 0x20 && msg[i] < 0x7f);
    }
    if (r == CONFCHECK_XML_BAD)
        CHECK(line >= 1 && col >= 1);
    g_free(msg);
    g_free(buf);
    return 0;
}
