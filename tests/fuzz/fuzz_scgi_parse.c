/* libFuzzer harness for scgi_parse.
 *
 * Input: one selector byte, then the bytes a peer sent.
 *   bit 0      SCGI_PARSE_LENIENT
 *   bits 1-2   max_header: 4096, 70, SIZE_MAX, 0 (fuzz_max_header below)
 *   bits 3-7   how the bytes arrive: 0 = one at a time, k = steps of 1..4k bytes
 * The corpus (tests/fuzz/corpus/scgi_parse/) holds the unit-test table's rows in
 * this form, with the selector's split bits 0.
 *
 * Invariants checked (abort on violation):
 *  - parsing in growing prefixes, in a buffer that moves at every step, ends with
 *    the same status and results as parsing everything at once; once a prefix
 *    gives a status other than AGAIN, every longer prefix gives that status;
 *  - on DONE: the frame is inside the input and consistent (length digits, ':',
 *    block ending in NUL, ','), header_end is where the incremental parse
 *    finished, and scgi_block_next yields exactly nvars non-empty pairs inside
 *    the block, obeying the CONTENT_LENGTH and SCGI rules, names other than
 *    HTTP_* (HTTP_HOST included) unique and at most SCGI_PARSE_MAX_UNIQUE.
 */
#include "scgi_parse.h"
#include "fuzz_check.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static const size_t fuzz_max_header[4] = { 4096, 70, SIZE_MAX, 0 };

typedef struct {
    unsigned flags;
    size_t max_header;
    unsigned split; /* 0: one byte at a time; k: random steps of 1..4k bytes */
} fuzz_setup;

static fuzz_setup fuzz_decode(uint8_t selector)
{
    fuzz_setup s = {
        .flags = (selector & 1) ? SCGI_PARSE_LENIENT : 0,
        .max_header = fuzz_max_header[(selector >> 1) & 3],
        .split = selector >> 3,
    };
    return s;
}

/* A small deterministic generator, so that a crash input replays identically. */
static size_t fuzz_next_step(const fuzz_setup *s, uint32_t *rng)
{
    if (s->split == 0)
        return 1;
    *rng ^= *rng << 13;
    *rng ^= *rng >> 17;
    *rng ^= *rng << 5;
    return 1 + *rng % (4 * s->split);
}

static bool fuzz_same_result(const scgi_parser *a, const scgi_parser *b)
{
    return a->block_start == b->block_start && a->block_len == b->block_len
           && a->header_end == b->header_end && a->content_length == b->content_length
           && a->nvars == b->nvars;
}

static bool fuzz_is(const char *s, size_t n, const char *literal)
{
    return n == strlen(literal) && memcmp(s, literal, n) == 0;
}

/* Parses an unsigned decimal the obvious way; 0 digits or overflow gives false. */
static bool fuzz_decimal(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;

    if (n == 0 || n > 20)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return true;
}

/* The netstring frame around an accepted block. */
static void fuzz_check_frame(const fuzz_setup *s, const scgi_parser *p,
                             const char *in, size_t n)
{
    uint64_t len;

    CHECK(p->header_end <= n);
    CHECK(p->block_start >= 2 && p->block_start <= 21);
    CHECK(p->block_len >= 1 && p->block_len <= s->max_header);
    CHECK(p->block_start + p->block_len + 1 == p->header_end);
    CHECK(in[0] != '0');
    CHECK(fuzz_decimal(in, p->block_start - 1, &len) && len == p->block_len);
    CHECK(in[p->block_start - 1] == ':');
    CHECK(in[p->block_start + p->block_len - 1] == '\0');
    CHECK(in[p->header_end - 1] == ',');
}

static bool fuzz_repeatable(const char *name, size_t name_len)
{
    return name_len >= 5 && memcmp(name, "HTTP_", 5) == 0 && !fuzz_is(name, name_len, "HTTP_HOST");
}

/* Names other than HTTP_* (HTTP_HOST included) appear once, at most
 * SCGI_PARSE_MAX_UNIQUE of them: checked the slow, obvious way. */
static void fuzz_check_unique(const scgi_parser *p, const char *block)
{
    const char *name, *value, *other, *ov;
    size_t pos = 0, name_len, value_len, opos, olen, ovlen;
    unsigned unique = 0;

    while (scgi_block_next(block, p->block_len, &pos, &name, &name_len, &value, &value_len)) {
        if (fuzz_repeatable(name, name_len))
            continue;
        unique++;
        opos = 0;
        while (scgi_block_next(block, p->block_len, &opos, &other, &olen, &ov, &ovlen) && other < name)
            CHECK(!(olen == name_len && memcmp(other, name, olen) == 0));
    }
    CHECK(unique <= SCGI_PARSE_MAX_UNIQUE);
}

/* The pairs of an accepted block, through the public iterator. */
static void fuzz_check_pairs(const fuzz_setup *s, const scgi_parser *p, const char *in)
{
    const char *block = in + p->block_start, *name, *value;
    size_t pos = 0, name_len, value_len;
    unsigned count = 0, n_scgi = 0;
    uint64_t cl;

    while (scgi_block_next(block, p->block_len, &pos, &name, &name_len, &value, &value_len)) {
        CHECK(name >= block && value > name + name_len);
        CHECK(value + value_len < block + p->block_len);
        CHECK(name_len > 0 && name[name_len] == '\0' && value[value_len] == '\0');
        CHECK(memchr(name, '\0', name_len) == NULL && memchr(value, '\0', value_len) == NULL);
        CHECK(pos <= p->block_len);
        if (count == 0) {
            CHECK(fuzz_is(name, name_len, "CONTENT_LENGTH"));
            CHECK(fuzz_decimal(value, value_len, &cl) && cl == p->content_length);
            CHECK(cl <= (uint64_t)INT64_MAX && (value[0] != '0' || value_len == 1));
        } else {
            CHECK(!fuzz_is(name, name_len, "CONTENT_LENGTH"));
        }
        if (fuzz_is(name, name_len, "SCGI")) {
            CHECK(fuzz_is(value, value_len, "1"));
            n_scgi++;
        }
        count++;
    }
    CHECK(pos == p->block_len);
    CHECK(count == p->nvars);
    CHECK(n_scgi == 1 || (n_scgi == 0 && (s->flags & SCGI_PARSE_LENIENT)));
    fuzz_check_unique(p, block);
}

/* Feeds in[0..n) in growing prefixes, each in a freshly reallocated buffer, and
 * returns the final status. The prefix that ended the parse was in[0..*finished_at),
 * the one before it in[0..*before) (both 0 if the parse never ended). */
static scgi_parse_status fuzz_feed(const fuzz_setup *s, scgi_parser *p, const char *in,
                                   size_t n, size_t *before, size_t *finished_at)
{
    scgi_parse_status st = SCGI_PARSE_AGAIN, first = SCGI_PARSE_AGAIN;
    uint32_t rng = 0x9e3779b9u ^ s->split;
    char *buf = NULL;
    size_t have = 0;

    *before = *finished_at = 0;
    scgi_parse_init(p, s->max_header, s->flags);
    CHECK(scgi_parse(p, "", 0) == SCGI_PARSE_AGAIN);
    while (have < n) {
        size_t step = fuzz_next_step(s, &rng);

        step = step < n - have ? step : n - have;
        buf = realloc(buf, have + step);
        CHECK(buf != NULL);
        memcpy(buf + have, in + have, step);
        have += step;
        st = scgi_parse(p, buf, have);
        if (st != SCGI_PARSE_AGAIN && *finished_at == 0) {
            first = st;
            *before = have - step;
            *finished_at = have;
        }
        CHECK(*finished_at == 0 || st == first);
    }
    free(buf);
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_setup s;
    scgi_parser whole, parts;
    scgi_parse_status st_whole, st_parts;
    const char *in = (const char *)data + 1;
    size_t n, before, finished_at;

    if (size == 0)
        return 0;
    s = fuzz_decode(data[0]);
    n = size - 1;

    scgi_parse_init(&whole, s.max_header, s.flags);
    st_whole = scgi_parse(&whole, in, n);
    CHECK(scgi_parse(&whole, in, n) == st_whole);
    CHECK(scgi_parse_strerror(st_whole) != NULL);

    st_parts = fuzz_feed(&s, &parts, in, n, &before, &finished_at);
    CHECK(st_parts == st_whole);
    CHECK((finished_at == 0) == (st_whole == SCGI_PARSE_AGAIN));
    if (st_whole != SCGI_PARSE_DONE)
        return 0;

    CHECK(fuzz_same_result(&whole, &parts));
    CHECK(before < whole.header_end && whole.header_end <= finished_at);
    CHECK(s.split != 0 || finished_at == whole.header_end);
    fuzz_check_frame(&s, &whole, in, n);
    fuzz_check_pairs(&s, &whole, in);
    return 0;
}
