/* Unit tests for scgi_parse: one GTest case per table row, each parsing its input
 * in one call and then again one byte at a time (in a buffer that grows and moves),
 * plus scgi_block_next iteration and scgi_parse_strerror.
 * Every row is also a seed of the fuzz corpus (tests/fuzz/corpus/scgi_parse/).
 */
#include "scgi_parse.h"

#include <glib.h>
#include <string.h>

/* A byte string literal with its length (it contains NULs, so strlen won't do). */
#define BYTES(s) (s), sizeof(s) - 1

#define MAXH 4096 /* max_header used by rows that do not test the limit */

typedef struct {
    const char *name;        /* test path below /scgi_parse/<accept|refuse|truncated>/ */
    const char *in;
    size_t len;
    unsigned flags;
    size_t max_header;
    scgi_parse_status want;
    /* for want == SCGI_PARSE_DONE only */
    uint64_t content_length;
    unsigned nvars;
    size_t header_end;
} parse_case;

/* The SCGI specification's example, byte for byte (its length 70 is right). */
#define SPEC_BLOCK "CONTENT_LENGTH\0" "27\0" "SCGI\0" "1\0" "REQUEST_METHOD\0" "POST\0" \
                   "REQUEST_URI\0" "/deepthought\0"
#define SPEC_BODY "What is the answer to life?"

/* Blocks of the rows below, with their lengths worked out by hand and checked
 * by the "block-lengths" test. */
#define MIN_BLOCK "CONTENT_LENGTH\0" "0\0" "SCGI\0" "1\0"     /* 24 */
#define CL0_BLOCK "CONTENT_LENGTH\0" "0\0"                    /* 17 */

/* Rows, by expected outcome. The status of REFUSE is pasted to SCGI_PARSE_ERR_. */
#define ACCEPT(name, in, flags, max, clen, nvars, end) \
    { name, BYTES(in), flags, max, SCGI_PARSE_DONE, clen, nvars, end }
#define REFUSE(name, in, flags, max, err) \
    { name, BYTES(in), flags, max, SCGI_PARSE_ERR_##err, 0, 0, 0 }
#define TRUNCATED(name, in, flags, max) \
    { name, BYTES(in), flags, max, SCGI_PARSE_AGAIN, 0, 0, 0 }

#define LENIENT SCGI_PARSE_LENIENT
#define CL "CONTENT_LENGTH\0"

static const parse_case cases[] = {
    /* name, input, flags, max_header, then content_length, nvars, header_end */
    ACCEPT("spec-example", "70:" SPEC_BLOCK "," SPEC_BODY, 0, MAXH, 27, 4, 74),
    ACCEPT("minimal", "24:" MIN_BLOCK ",", 0, MAXH, 0, 2, 28),
    ACCEPT("minimal-lenient", "24:" MIN_BLOCK ",", LENIENT, MAXH, 0, 2, 28),
    ACCEPT("no-scgi-lenient", "17:" CL0_BLOCK ",", LENIENT, MAXH, 0, 1, 21),
    ACCEPT("content-length-one", "24:" CL "1\0" "SCGI\0" "1\0" ",x", 0, MAXH, 1, 2, 28),
    ACCEPT("content-length-max", "42:" CL "9223372036854775807\0" "SCGI\0" "1\0,", 0, MAXH,
           9223372036854775807ULL, 2, 46),
    ACCEPT("empty-values", "34:" MIN_BLOCK "EMPTY\0" "\0" "X\0" "\0,", 0, MAXH, 0, 4, 38),
    ACCEPT("high-bytes", "34:" MIN_BLOCK "\x80N\xff\0" "\xfe\x80v\xc3\xa9\0,", 0, MAXH,
           0, 3, 38),
    ACCEPT("scgi-last", "47:" CL0_BLOCK "REQUEST_METHOD\0" "GET\0" "A\0" "b\0" "SCGI\0" "1\0,",
           0, MAXH, 0, 4, 51),
    ACCEPT("duplicate-cookie", "56:" MIN_BLOCK "HTTP_COOKIE\0" "a=1\0" "HTTP_COOKIE\0" "b=2\0,",
           0, MAXH, 0, 4, 60),
    /* HTTP_* may repeat (HTTP_HOST aside); names differ by any byte or length */
    ACCEPT("repeated-http-headers", "72:" MIN_BLOCK "HTTP_ACCEPT\0" "a\0" "HTTP_X_A\0" "\0" "HTTP_ACCEPT\0" "b\0" "HTTP_X_A\0" "\0" ",",
           0, MAXH, 0, 6, 76),
    ACCEPT("similar-names-differ", "105:" MIN_BLOCK "REQUEST_URI\0" "/\0" "REQUEST_UR\0" "x\0" "REQUEST_URIX\0" "y\0" "request_uri\0" "z\0" "HTTP_HOSTX\0" "h\0" "HTTP_HOST\0" "h\0" ",",
           0, MAXH, 0, 8, 110),
    ACCEPT("length-equals-max-header", "70:" SPEC_BLOCK ",", 0, 70, 27, 4, 74),
    ACCEPT("body-looks-like-netstring", "24:" MIN_BLOCK ",24:" MIN_BLOCK ",", 0, MAXH, 0, 2, 28),
    ACCEPT("value-with-colon-and-comma", "34:" MIN_BLOCK "Q\0" "a:b,c=,\0" ",\0", 0, MAXH,
           0, 3, 38),

    /* name, input, flags, max_header, error: the netstring length */
    REFUSE("length-empty", ":" MIN_BLOCK ",", 0, MAXH, LENGTH_EMPTY),
    REFUSE("length-nondigit-first", "x24:" MIN_BLOCK ",", 0, MAXH, LENGTH_EMPTY),
    REFUSE("length-signed-minus", "-24:" MIN_BLOCK ",", 0, MAXH, LENGTH_EMPTY),
    REFUSE("length-signed-plus", "+24:" MIN_BLOCK ",", 0, MAXH, LENGTH_EMPTY),
    REFUSE("length-space-first", " 24:" MIN_BLOCK ",", 0, MAXH, LENGTH_EMPTY),
    REFUSE("http-request", "GET / HTTP/1.1\r\n\r\n", 0, MAXH, LENGTH_EMPTY),
    REFUSE("length-nondigit", "2x4:" MIN_BLOCK ",", 0, MAXH, LENGTH_CHAR),
    REFUSE("length-space-after", "24 :" MIN_BLOCK ",", 0, MAXH, LENGTH_CHAR),
    REFUSE("missing-colon", "5,", 0, MAXH, LENGTH_CHAR),
    REFUSE("length-high-byte", "2\xb2:", 0, MAXH, LENGTH_CHAR),
    REFUSE("leading-zero", "024:" MIN_BLOCK ",", 0, MAXH, LENGTH_ZERO),
    REFUSE("length-zero", "0:,", 0, MAXH, LENGTH_ZERO),
    /* refused from the digits (and ':') alone, before the block could arrive */
    REFUSE("length-over-max-header", "4097:", 0, MAXH, TOO_LARGE),
    REFUSE("length-over-max-header-no-colon", "4097", 0, MAXH, TOO_LARGE),
    REFUSE("length-one-over-max-header", "71:" SPEC_BLOCK ",", 0, 70, TOO_LARGE),
    REFUSE("length-over-max-header-zero", "1:", 0, 0, TOO_LARGE),
    REFUSE("length-over-size-max", "18446744073709551616:", 0, SIZE_MAX, TOO_LARGE),
    REFUSE("length-21-digits", "100000000000000000000:", 0, SIZE_MAX, TOO_LARGE),
    REFUSE("length-25-digits", "9999999999999999999999999:", 0, SIZE_MAX, TOO_LARGE),

    /* the netstring's frame */
    REFUSE("no-comma", "24:" MIN_BLOCK ";", 0, MAXH, NO_COMMA),
    REFUSE("body-instead-of-comma", "70:" SPEC_BLOCK SPEC_BODY, 0, MAXH, NO_COMMA),
    REFUSE("length-one-short", "23:" MIN_BLOCK ",", 0, MAXH, NOT_NUL_TERMINATED),
    REFUSE("block-ends-in-value", "25:" MIN_BLOCK "X,", 0, MAXH, NOT_NUL_TERMINATED),
    REFUSE("length-one-long", "25:" MIN_BLOCK ",x", 0, MAXH, NOT_NUL_TERMINATED),

    /* the pairs */
    REFUSE("name-without-value", "29:" MIN_BLOCK "NAME\0,", 0, MAXH, NAME_NO_VALUE),
    REFUSE("block-is-one-name", "15:" CL ",", 0, MAXH, NAME_NO_VALUE),
    REFUSE("empty-name", "27:" MIN_BLOCK "\0" "v\0,", 0, MAXH, EMPTY_NAME),
    REFUSE("empty-name-first", "27:\0" "v\0" MIN_BLOCK ",", 0, MAXH, EMPTY_NAME),
    REFUSE("block-is-nul", "1:\0,", 0, MAXH, EMPTY_NAME),
    REFUSE("no-content-length", "7:SCGI\0" "1\0,", 0, MAXH, NO_CONTENT_LENGTH),
    REFUSE("content-length-not-first", "24:SCGI\0" "1\0" CL0_BLOCK ",", 0, MAXH,
           NO_CONTENT_LENGTH),
    REFUSE("content-length-lowercase", "24:content_length\0" "0\0" "SCGI\0" "1\0,", 0, MAXH,
           NO_CONTENT_LENGTH),
    REFUSE("content-length-empty", "23:" CL "\0" "SCGI\0" "1\0,", 0, MAXH, BAD_CONTENT_LENGTH),
    REFUSE("content-length-minus", "25:" CL "-1\0" "SCGI\0" "1\0,", 0, MAXH, BAD_CONTENT_LENGTH),
    REFUSE("content-length-plus", "25:" CL "+1\0" "SCGI\0" "1\0,", 0, MAXH, BAD_CONTENT_LENGTH),
    REFUSE("content-length-leading-space", "25:" CL " 1\0" "SCGI\0" "1\0,", 0, MAXH,
           BAD_CONTENT_LENGTH),
    REFUSE("content-length-trailing-space", "25:" CL "1 \0" "SCGI\0" "1\0,", 0, MAXH,
           BAD_CONTENT_LENGTH),
    REFUSE("content-length-inner-space", "26:" CL "1 2\0" "SCGI\0" "1\0,", 0, MAXH,
           BAD_CONTENT_LENGTH),
    REFUSE("content-length-leading-zero", "25:" CL "07\0" "SCGI\0" "1\0,", 0, MAXH,
           BAD_CONTENT_LENGTH),
    REFUSE("content-length-double-zero", "25:" CL "00\0" "SCGI\0" "1\0,", 0, MAXH,
           BAD_CONTENT_LENGTH),
    REFUSE("content-length-nondigit", "25:" CL "1a\0" "SCGI\0" "1\0,", 0, MAXH,
           BAD_CONTENT_LENGTH),
    REFUSE("content-length-2-63", "42:" CL "9223372036854775808\0" "SCGI\0" "1\0,", 0, MAXH,
           BAD_CONTENT_LENGTH),
    REFUSE("content-length-2-64", "43:" CL "18446744073709551616\0" "SCGI\0" "1\0,", 0, MAXH,
           BAD_CONTENT_LENGTH),
    REFUSE("content-length-20-digits", "43:" CL "10000000000000000000\0" "SCGI\0" "1\0,",
           0, MAXH, BAD_CONTENT_LENGTH),
    REFUSE("content-length-25-digits", "48:" CL "1000000000000000000000000\0" "SCGI\0" "1\0,",
           0, MAXH, BAD_CONTENT_LENGTH),
    REFUSE("no-scgi-strict", "17:" CL0_BLOCK ",", 0, MAXH, NO_SCGI),
    REFUSE("scgi-lowercase-strict", "24:" CL0_BLOCK "scgi\0" "1\0,", 0, MAXH, NO_SCGI),
    REFUSE("scgi-2", "24:" CL0_BLOCK "SCGI\0" "2\0,", 0, MAXH, BAD_SCGI),
    REFUSE("scgi-2-lenient", "24:" CL0_BLOCK "SCGI\0" "2\0,", LENIENT, MAXH, BAD_SCGI),
    REFUSE("scgi-empty", "23:" CL0_BLOCK "SCGI\0" "\0,", 0, MAXH, BAD_SCGI),
    REFUSE("scgi-1.0", "26:" CL0_BLOCK "SCGI\0" "1.0\0,", 0, MAXH, BAD_SCGI),
    REFUSE("duplicate-content-length", "41:" MIN_BLOCK CL0_BLOCK ",", 0, MAXH, DUPLICATE),
    REFUSE("duplicate-scgi", "31:" MIN_BLOCK "SCGI\0" "1\0,", 0, MAXH, DUPLICATE),
    REFUSE("duplicate-scgi-lenient", "31:" MIN_BLOCK "SCGI\0" "1\0,", LENIENT, MAXH, DUPLICATE),
    /* a name other than HTTP_* appears once, and HTTP_HOST too (two readers
     * could take a repeated REQUEST_URI, CONTENT_LENGTH, Host... apart) */
    REFUSE("duplicate-request-uri", "54:" MIN_BLOCK "REQUEST_URI\0" "/a\0" "REQUEST_URI\0" "/b\0" ",", 0, MAXH, DUPLICATE),
    REFUSE("duplicate-request-uri-same-value", "68:" MIN_BLOCK "REQUEST_URI\0" "/a\0" "QUERY_STRING\0" "\0" "REQUEST_URI\0" "/a\0" ",", 0, MAXH, DUPLICATE),
    REFUSE("duplicate-script-name", "52:" MIN_BLOCK "SCRIPT_NAME\0" "/a\0" "SCRIPT_NAME\0" "\0" ",", 0, MAXH, DUPLICATE),
    REFUSE("duplicate-http-host", "62:" MIN_BLOCK "HTTP_HOST\0" "a\0" "HTTP_COOKIE\0" "c\0" "HTTP_HOST\0" "b\0" ",", 0, MAXH, DUPLICATE),
    REFUSE("duplicate-https", "43:" MIN_BLOCK "HTTPS\0" "off\0" "HTTPS\0" "on\0" ",", 0, MAXH, DUPLICATE),
    REFUSE("duplicate-remote-addr", "68:" MIN_BLOCK "REMOTE_ADDR\0" "192.0.2.1\0" "REMOTE_ADDR\0" "127.0.0.1\0" ",", 0, MAXH, DUPLICATE),
    REFUSE("duplicate-content-type", "58:" MIN_BLOCK "CONTENT_TYPE\0" "a/b\0" "CONTENT_TYPE\0" "c/d\0" ",", 0, MAXH, DUPLICATE),
    REFUSE("duplicate-custom-empty", "30:" MIN_BLOCK "X\0" "\0" "X\0" "\0" ",", 0, MAXH, DUPLICATE),
    /* the first error in block order wins, whatever follows */
    REFUSE("first-error-wins", "34:" CL0_BLOCK "SCGI\0" "2\0" "\0" "x\0" "SCGI\0" "1\0;", 0, MAXH,
           BAD_SCGI),

    /* name, input, flags, max_header: the peer stopped early, the parser wants more */
    TRUNCATED("empty-input", "", 0, MAXH),
    TRUNCATED("eof-in-length", "7", 0, MAXH),
    TRUNCATED("eof-after-colon", "70:", 0, MAXH),
    TRUNCATED("eof-in-block", "70:" CL "27\0" "SC", 0, MAXH),
    TRUNCATED("eof-before-comma", "70:" SPEC_BLOCK, 0, MAXH),
    TRUNCATED("length-is-size-max", "18446744073709551615:", 0, SIZE_MAX),
    TRUNCATED("length-20-digits", "10000000000000000000:" MIN_BLOCK, 0, SIZE_MAX),
};

static const char *case_group(scgi_parse_status st)
{
    switch (st) {
    case SCGI_PARSE_DONE:  return "accept";
    case SCGI_PARSE_AGAIN: return "truncated";
    default:               return "refuse";
    }
}

static void assert_result(const parse_case *c, const scgi_parser *p, scgi_parse_status st)
{
    g_assert_cmpint(st, ==, c->want);
    if (st != SCGI_PARSE_DONE)
        return;
    g_assert_cmpuint(p->content_length, ==, c->content_length);
    g_assert_cmpuint(p->nvars, ==, c->nvars);
    g_assert_cmpuint(p->header_end, ==, c->header_end);
    g_assert_cmpuint(p->block_start + p->block_len + 1, ==, p->header_end);
    g_assert_cmpint(c->in[p->header_end - 1], ==, ',');
}

/* The whole input in one call, then once more: a finished parse is sticky. */
static void check_one_shot(const parse_case *c)
{
    scgi_parser p;
    char *buf = g_memdup2(c->in, c->len); /* exact size, so ASan sees any overread */
    scgi_parse_status st;

    scgi_parse_init(&p, c->max_header, c->flags);
    st = scgi_parse(&p, buf, c->len);
    assert_result(c, &p, st);
    g_assert_cmpint(scgi_parse(&p, buf, c->len), ==, st);
    g_free(buf);
}

/* One byte more per call, in a buffer reallocated (so it moves) at every step.
 * An accepted header is AGAIN until its ',' and DONE from then on; any other
 * outcome is AGAIN until some byte, then the expected status from then on. */
static void check_bytewise(const parse_case *c)
{
    scgi_parser p;
    char *buf = NULL;
    scgi_parse_status st = SCGI_PARSE_AGAIN;
    size_t finished_at = 0;

    scgi_parse_init(&p, c->max_header, c->flags);
    g_assert_cmpint(scgi_parse(&p, "", 0), ==, SCGI_PARSE_AGAIN);
    for (size_t n = 1; n <= c->len; n++) {
        buf = g_realloc(buf, n);
        buf[n - 1] = c->in[n - 1];
        st = scgi_parse(&p, buf, n);
        if (st == SCGI_PARSE_AGAIN) {
            g_assert_cmpuint(finished_at, ==, 0);
            continue;
        }
        g_assert_cmpint(st, ==, c->want);
        if (finished_at == 0)
            finished_at = n;
    }
    assert_result(c, &p, st);
    if (c->want == SCGI_PARSE_DONE)
        g_assert_cmpuint(finished_at, ==, c->header_end);
    g_free(buf);
}

static void test_case(gconstpointer data)
{
    const parse_case *c = data;

    check_one_shot(c);
    check_bytewise(c);
}

/* The hand-counted netstring lengths used in the table. */
static void test_block_lengths(void)
{
    g_assert_cmpuint(sizeof(SPEC_BLOCK) - 1, ==, 70);
    g_assert_cmpuint(sizeof(SPEC_BODY) - 1, ==, 27);
    g_assert_cmpuint(sizeof(MIN_BLOCK) - 1, ==, 24);
    g_assert_cmpuint(sizeof(CL0_BLOCK) - 1, ==, 17);
}

typedef struct {
    const char *name, *value;
} pair;

static void assert_pairs(const char *in, size_t len, const pair *want, unsigned nwant)
{
    scgi_parser p;
    const char *block, *name, *value;
    size_t pos = 0, name_len, value_len;
    unsigned i = 0;

    scgi_parse_init(&p, MAXH, 0);
    g_assert_cmpint(scgi_parse(&p, in, len), ==, SCGI_PARSE_DONE);
    g_assert_cmpuint(p.nvars, ==, nwant);
    block = in + p.block_start;
    while (scgi_block_next(block, p.block_len, &pos, &name, &name_len, &value, &value_len)) {
        g_assert_cmpuint(i, <, nwant);
        g_assert_cmpuint(name_len, ==, strlen(want[i].name));
        g_assert_cmpmem(name, name_len + 1, want[i].name, name_len + 1);
        g_assert_cmpuint(value_len, ==, strlen(want[i].value));
        g_assert_cmpmem(value, value_len + 1, want[i].value, value_len + 1);
        i++;
    }
    g_assert_cmpuint(i, ==, nwant);
    g_assert_cmpuint(pos, ==, p.block_len);
    /* The end is sticky. */
    g_assert_false(scgi_block_next(block, p.block_len, &pos, &name, &name_len,
                                   &value, &value_len));
}

static void test_block_next_spec(void)
{
    static const pair want[] = {
        { "CONTENT_LENGTH", "27" }, { "SCGI", "1" },
        { "REQUEST_METHOD", "POST" }, { "REQUEST_URI", "/deepthought" },
    };
    static const char in[] = "70:" SPEC_BLOCK "," SPEC_BODY;

    assert_pairs(in, sizeof in - 1, want, G_N_ELEMENTS(want));
}

static void test_block_next_empty_values(void)
{
    static const pair want[] = {
        { "CONTENT_LENGTH", "0" }, { "SCGI", "1" }, { "EMPTY", "" }, { "X", "" },
        { "HTTP_COOKIE", "a=1" }, { "HTTP_COOKIE", "" },
    };
    static const char in[] = "63:" MIN_BLOCK "EMPTY\0" "\0" "X\0" "\0"
                             "HTTP_COOKIE\0" "a=1\0" "HTTP_COOKIE\0" "\0,";

    assert_pairs(in, sizeof in - 1, want, G_N_ELEMENTS(want));
}

/* An empty block yields no pair (scgi_parse never accepts one, but the
 * iterator must still stop). */
static void test_block_next_empty(void)
{
    const char *name, *value;
    size_t pos = 0, name_len, value_len;

    g_assert_false(scgi_block_next("", 0, &pos, &name, &name_len, &value, &value_len));
    g_assert_cmpuint(pos, ==, 0);
}

static void test_strerror(void)
{
    GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
    const char *unknown = scgi_parse_strerror((scgi_parse_status)1000);

    g_assert_nonnull(unknown);
    g_hash_table_add(seen, (gpointer)unknown);
    for (int st = SCGI_PARSE_DONE; st <= SCGI_PARSE_ERR_TOO_MANY_VARS; st++) {
        const char *msg = scgi_parse_strerror((scgi_parse_status)st);

        g_assert_nonnull(msg);
        g_assert_cmpuint(strlen(msg), >, 0);
        g_assert_false(g_hash_table_contains(seen, msg));
        g_hash_table_add(seen, (gpointer)msg);
    }
    g_assert_cmpstr(scgi_parse_strerror((scgi_parse_status)-1), ==, unknown);
    g_hash_table_unref(seen);
}

/* A block of MIN_BLOCK, then `unique` distinct names V<i>, then `repeated`
 * HTTP_COOKIE pairs, then `tail` (name, value; may be NULL); parsed whole. */
static scgi_parse_status parse_many(unsigned unique, unsigned repeated, const char *tail)
{
    GString *block = g_string_new_len(MIN_BLOCK, sizeof MIN_BLOCK - 1);
    for (unsigned i = 0; i < unique; i++) {
        g_string_append_printf(block, "V%u", i);
        g_string_append_len(block, "\0v\0", 3);
    }
    for (unsigned i = 0; i < repeated; i++)
        g_string_append_len(block, "HTTP_COOKIE\0c\0", 14);
    if (tail) {
        g_string_append(block, tail);
        g_string_append_len(block, "\0x\0", 3);
    }
    GString *in = g_string_new(NULL);
    g_string_append_printf(in, "%zu:", block->len);
    g_string_append_len(in, block->str, (gssize)block->len);
    g_string_append_c(in, ',');
    scgi_parser p;
    scgi_parse_init(&p, in->len, 0);
    scgi_parse_status st = scgi_parse(&p, in->str, in->len);
    g_string_free(block, TRUE);
    g_string_free(in, TRUE);
    return st;
}

/* SCGI_PARSE_MAX_UNIQUE names other than HTTP_* (CONTENT_LENGTH and SCGI
 * among them), no more; the last one may still be found repeated. */
static void test_unique_limit(void)
{
    unsigned fill = SCGI_PARSE_MAX_UNIQUE - 2;
    g_assert_cmpint(parse_many(fill, 0, NULL), ==, SCGI_PARSE_DONE);
    g_assert_cmpint(parse_many(fill, 0, "V0"), ==, SCGI_PARSE_ERR_DUPLICATE);
    g_assert_cmpint(parse_many(fill, 0, "HTTP_HOST"), ==, SCGI_PARSE_ERR_TOO_MANY_VARS);
    g_assert_cmpint(parse_many(fill, 0, "HTTP_X"), ==, SCGI_PARSE_DONE);
    g_assert_cmpint(parse_many(fill + 1, 0, NULL), ==, SCGI_PARSE_ERR_TOO_MANY_VARS);
}

/* Linear: many repeated HTTP_* pairs beside the most distinct names allowed
 * parse in well under a second (a scan of earlier names per name would take
 * 10^10 steps here). */
static void test_duplicates_linear(void)
{
    gint64 t = g_get_monotonic_time();
    g_assert_cmpint(parse_many(SCGI_PARSE_MAX_UNIQUE - 2, 200000, "HTTP_HOST"), ==,
                    SCGI_PARSE_ERR_TOO_MANY_VARS);
    g_assert_cmpint(parse_many(SCGI_PARSE_MAX_UNIQUE - 3, 200000, "SCRIPT_NAME"), ==, SCGI_PARSE_DONE);
    g_assert_cmpint(parse_many(100, 200000, "V99"), ==, SCGI_PARSE_ERR_DUPLICATE);
    g_assert_cmpint(g_get_monotonic_time() - t, <, 2 * G_USEC_PER_SEC);
}

/* Every row's expected status is a known code, and no two rows share a test path. */
static void test_table(void)
{
    GHashTable *names = g_hash_table_new(g_str_hash, g_str_equal);

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_assert_cmpint(cases[i].want, <=, SCGI_PARSE_ERR_TOO_MANY_VARS);
        g_assert_false(g_hash_table_contains(names, cases[i].name));
        g_hash_table_add(names, (gpointer)cases[i].name);
    }
    g_hash_table_unref(names);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *path = g_strdup_printf("/scgi_parse/%s/%s", case_group(cases[i].want),
                                     cases[i].name);

        g_test_add_data_func(path, &cases[i], test_case);
        g_free(path);
    }
    g_test_add_func("/scgi_parse/table", test_table);
    g_test_add_func("/scgi_parse/unique-limit", test_unique_limit);
    g_test_add_func("/scgi_parse/duplicates-linear", test_duplicates_linear);
    g_test_add_func("/scgi_parse/block-lengths", test_block_lengths);
    g_test_add_func("/scgi_parse/block_next/spec-example", test_block_next_spec);
    g_test_add_func("/scgi_parse/block_next/empty-values", test_block_next_empty_values);
    g_test_add_func("/scgi_parse/block_next/empty-block", test_block_next_empty);
    g_test_add_func("/scgi_parse/strerror", test_strerror);
    return g_test_run();
}
