/* scgi_parse: the SCGI request header parser. The contract is in scgi_parse.h.
 *
 * The parse has three phases, each resumable: the netstring length (one byte at a
 * time, so a bad or oversized length is refused as early as possible), the block
 * (checked in one pass once all of it has arrived) and the ',' after it. While
 * waiting for the block the parser does O(1) work per call, and it scans every byte
 * once, so the total work is linear in the header size however it is split.
 */
#include "scgi_parse.h"

#include <stdbool.h>
#include <string.h>

/* Phases, kept in p->state. A finished parse stores SCGI_STATE_FINISHED + its
 * status, so that later calls return the same status without looking at buf. */
enum {
    SCGI_STATE_LENGTH = 0, /* reading digits; the value so far is kept in p->block_len */
    SCGI_STATE_BLOCK,      /* length known; waiting for all of the block */
    SCGI_STATE_COMMA,      /* block valid; waiting for the ',' */
    SCGI_STATE_FINISHED,   /* + the final status */
};

/* Any size_t fits in 20 digits (2^64 - 1 has 20), so a 21st digit can only
 * exceed max_header; the limit also keeps the count independent of max_header. */
#define SCGI_LENGTH_MAX_DIGITS 20

/* CONTENT_LENGTH must fit in 63 bits, so that callers may store it in an off_t. */
#define SCGI_CONTENT_LENGTH_MAX ((uint64_t)INT64_MAX)

void scgi_parse_init(scgi_parser *p, size_t max_header, unsigned flags)
{
    memset(p, 0, sizeof *p);
    p->max_header = max_header;
    p->flags = flags;
    p->state = SCGI_STATE_LENGTH;
}

/* Reads the netstring length from buf[0..]. Refuses it as soon as a digit takes it
 * above max_header, before the block (or even the ':') arrives, and without
 * overflow whatever the number of digits. Moves to SCGI_STATE_BLOCK at the ':'. */
static scgi_parse_status scgi_parse_length(scgi_parser *p, const char *buf, size_t len)
{
    for (; p->pos < len; p->pos++) {
        unsigned char c = (unsigned char)buf[p->pos];
        size_t d;

        if (c == ':' && p->pos > 0) {
            p->block_start = p->pos + 1;
            p->pos = p->block_start;
            p->state = SCGI_STATE_BLOCK;
            return SCGI_PARSE_AGAIN;
        }
        if (c < '0' || c > '9')
            return p->pos == 0 ? SCGI_PARSE_ERR_LENGTH_EMPTY : SCGI_PARSE_ERR_LENGTH_CHAR;
        if (c == '0' && p->pos == 0)
            return SCGI_PARSE_ERR_LENGTH_ZERO;
        /* block_len * 10 + d > max_header, written so that it cannot overflow. */
        d = (size_t)(c - '0');
        if (p->pos == SCGI_LENGTH_MAX_DIGITS || d > p->max_header
            || p->block_len > (p->max_header - d) / 10)
            return SCGI_PARSE_ERR_TOO_LARGE;
        p->block_len = p->block_len * 10 + d;
    }
    return SCGI_PARSE_AGAIN;
}

/* Splits the pair at block[*pos] (requires *pos < n) and moves *pos past it.
 * Returns SCGI_PARSE_DONE, or the error for a malformed pair. Both NULs are
 * searched for inside the block, so it never reads past block[n - 1]. */
static scgi_parse_status scgi_split_pair(const char *block, size_t n, size_t *pos,
                                         const char **name, size_t *name_len,
                                         const char **value, size_t *value_len)
{
    const char *nul = memchr(block + *pos, '\0', n - *pos);
    size_t value_start;

    if (nul == block + *pos)
        return SCGI_PARSE_ERR_EMPTY_NAME;
    if (nul == NULL || (size_t)(nul - block) + 1 == n)
        return SCGI_PARSE_ERR_NAME_NO_VALUE;
    *name = block + *pos;
    *name_len = (size_t)(nul - *name);
    value_start = (size_t)(nul - block) + 1;
    nul = memchr(block + value_start, '\0', n - value_start);
    if (nul == NULL)
        return SCGI_PARSE_ERR_NAME_NO_VALUE;
    *value = block + value_start;
    *value_len = (size_t)(nul - *value);
    *pos = value_start + *value_len + 1;
    return SCGI_PARSE_DONE;
}

static bool scgi_name_is(const char *name, size_t name_len, const char *literal)
{
    return name_len == strlen(literal) && memcmp(name, literal, name_len) == 0;
}

/* A plain decimal: 1+ digits, no sign or padding, no leading zero unless it is
 * "0" itself, at most SCGI_CONTENT_LENGTH_MAX. */
static bool scgi_parse_decimal(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;

    if (n == 0 || (s[0] == '0' && n > 1))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned char)s[i] - (unsigned)'0';

        if (d > 9 || v > (SCGI_CONTENT_LENGTH_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* The names that may appear once in a block, as a set of offsets into the
 * block (open addressing, linear probing, at most half full): every name but
 * HTTP_* ones other than HTTP_HOST. Lives on the stack of one check. */
#define SCGI_SET_SLOTS (2 * SCGI_PARSE_MAX_UNIQUE)

typedef struct {
    const char *block;
    size_t used;
    size_t slot[SCGI_SET_SLOTS]; /* offset of the name + 1; 0: empty */
} scgi_name_set;

/* May this name appear more than once? Front ends legitimately repeat HTTP_*
 * (nginx sends one HTTP_COOKIE per Cookie header); a second HTTP_HOST is two
 * Host headers, which the front end and the application could read apart. */
static bool scgi_name_repeatable(const char *name, size_t name_len)
{
    return name_len >= 5 && memcmp(name, "HTTP_", 5) == 0 && !scgi_name_is(name, name_len, "HTTP_HOST");
}

/* Adds the name at block + off to the set. Returns SCGI_PARSE_DONE, or
 * SCGI_PARSE_ERR_DUPLICATE if it is there already, or
 * SCGI_PARSE_ERR_TOO_MANY_VARS when the set is full. */
static scgi_parse_status scgi_set_add(scgi_name_set *set, size_t off, size_t name_len)
{
    const char *name = set->block + off;
    uint32_t h = 2166136261u; /* FNV-1a */

    for (size_t i = 0; i < name_len; i++)
        h = (h ^ (unsigned char)name[i]) * 16777619u;
    for (size_t i = h % SCGI_SET_SLOTS;; i = (i + 1) % SCGI_SET_SLOTS) {
        if (set->slot[i] == 0) {
            if (set->used == SCGI_PARSE_MAX_UNIQUE)
                return SCGI_PARSE_ERR_TOO_MANY_VARS;
            set->slot[i] = off + 1;
            set->used++;
            return SCGI_PARSE_DONE;
        }
        /* names in the block are NUL-terminated: equal length and bytes */
        const char *other = set->block + set->slot[i] - 1;
        if (memcmp(other, name, name_len) == 0 && other[name_len] == '\0')
            return SCGI_PARSE_ERR_DUPLICATE;
    }
}

/* Applies the rules for CONTENT_LENGTH, SCGI and names that may appear once
 * to pair number p->nvars. */
static scgi_parse_status scgi_check_pair(scgi_parser *p, scgi_name_set *set, bool *seen_scgi,
                                         const char *name, size_t name_len,
                                         const char *value, size_t value_len)
{
    if (p->nvars == 0) {
        if (!scgi_name_is(name, name_len, "CONTENT_LENGTH"))
            return SCGI_PARSE_ERR_NO_CONTENT_LENGTH;
        if (!scgi_parse_decimal(value, value_len, &p->content_length))
            return SCGI_PARSE_ERR_BAD_CONTENT_LENGTH;
    }
    if (!scgi_name_repeatable(name, name_len)) {
        scgi_parse_status st = scgi_set_add(set, (size_t)(name - set->block), name_len);
        if (st != SCGI_PARSE_DONE)
            return st;
    }
    if (scgi_name_is(name, name_len, "SCGI")) {
        *seen_scgi = true;
        if (value_len != 1 || value[0] != '1')
            return SCGI_PARSE_ERR_BAD_SCGI;
    }
    return SCGI_PARSE_DONE;
}

/* Checks a complete block of n >= 1 bytes (the length phase refuses 0) in one
 * pass, reporting the first error in block order. Sets content_length and nvars.
 * Returns SCGI_PARSE_DONE if the block is valid. */
static scgi_parse_status scgi_check_block(scgi_parser *p, const char *block, size_t n)
{
    bool seen_scgi = false;
    size_t pos = 0;
    scgi_name_set set;

    set.block = block;
    set.used = 0;
    memset(set.slot, 0, sizeof set.slot);
    if (block[n - 1] != '\0')
        return SCGI_PARSE_ERR_NOT_NUL_TERMINATED;
    p->nvars = 0;
    while (pos < n) {
        const char *name, *value;
        size_t name_len, value_len;
        scgi_parse_status st;

        st = scgi_split_pair(block, n, &pos, &name, &name_len, &value, &value_len);
        if (st == SCGI_PARSE_DONE)
            st = scgi_check_pair(p, &set, &seen_scgi, name, name_len, value, value_len);
        if (st != SCGI_PARSE_DONE)
            return st;
        p->nvars++;
    }
    if (!seen_scgi && !(p->flags & SCGI_PARSE_LENIENT))
        return SCGI_PARSE_ERR_NO_SCGI;
    return SCGI_PARSE_DONE;
}

/* Waits until the whole block is in buf, then checks it and moves to
 * SCGI_STATE_COMMA. The block is checked without waiting for the ',' so that a
 * bad block is reported as such whatever follows it. */
static scgi_parse_status scgi_parse_block(scgi_parser *p, const char *buf, size_t len)
{
    scgi_parse_status st;

    if (len < p->block_start || len - p->block_start < p->block_len)
        return SCGI_PARSE_AGAIN;
    st = scgi_check_block(p, buf + p->block_start, p->block_len);
    if (st != SCGI_PARSE_DONE)
        return st;
    p->pos = p->block_start + p->block_len;
    p->state = SCGI_STATE_COMMA;
    return SCGI_PARSE_AGAIN;
}

static scgi_parse_status scgi_parse_comma(scgi_parser *p, const char *buf, size_t len)
{
    if (p->pos >= len)
        return SCGI_PARSE_AGAIN;
    if (buf[p->pos] != ',')
        return SCGI_PARSE_ERR_NO_COMMA;
    p->header_end = p->pos + 1;
    p->pos = p->header_end;
    return SCGI_PARSE_DONE;
}

scgi_parse_status scgi_parse(scgi_parser *p, const char *buf, size_t len)
{
    scgi_parse_status st = SCGI_PARSE_AGAIN;

    if (p->state >= SCGI_STATE_FINISHED)
        return (scgi_parse_status)(p->state - SCGI_STATE_FINISHED);
    if (p->state == SCGI_STATE_LENGTH)
        st = scgi_parse_length(p, buf, len);
    if (st == SCGI_PARSE_AGAIN && p->state == SCGI_STATE_BLOCK)
        st = scgi_parse_block(p, buf, len);
    if (st == SCGI_PARSE_AGAIN && p->state == SCGI_STATE_COMMA)
        st = scgi_parse_comma(p, buf, len);
    if (st != SCGI_PARSE_AGAIN)
        p->state = SCGI_STATE_FINISHED + (int)st;
    return st;
}

const char *scgi_parse_strerror(scgi_parse_status st)
{
    switch (st) {
    case SCGI_PARSE_DONE:                   return "header complete";
    case SCGI_PARSE_AGAIN:                  return "header incomplete, need more bytes";
    case SCGI_PARSE_ERR_LENGTH_EMPTY:       return "netstring length does not start with a digit";
    case SCGI_PARSE_ERR_LENGTH_CHAR:        return "netstring length has a byte that is not a digit";
    case SCGI_PARSE_ERR_LENGTH_ZERO:        return "netstring length is zero or has a leading zero";
    case SCGI_PARSE_ERR_TOO_LARGE:          return "header larger than the limit";
    case SCGI_PARSE_ERR_NO_COMMA:           return "netstring does not end with ','";
    case SCGI_PARSE_ERR_NOT_NUL_TERMINATED: return "header block does not end with NUL";
    case SCGI_PARSE_ERR_EMPTY_NAME:         return "header variable with an empty name";
    case SCGI_PARSE_ERR_NAME_NO_VALUE:      return "header variable without a value";
    case SCGI_PARSE_ERR_NO_CONTENT_LENGTH:  return "first header variable is not CONTENT_LENGTH";
    case SCGI_PARSE_ERR_BAD_CONTENT_LENGTH: return "CONTENT_LENGTH is not a plain decimal below 2^63";
    case SCGI_PARSE_ERR_NO_SCGI:            return "SCGI variable missing";
    case SCGI_PARSE_ERR_BAD_SCGI:           return "SCGI variable is not \"1\"";
    case SCGI_PARSE_ERR_DUPLICATE:          return "a variable other than HTTP_* (or HTTP_HOST) appears twice";
    case SCGI_PARSE_ERR_TOO_MANY_VARS:      return "too many distinct variables other than HTTP_*";
    }
    return "unknown SCGI parse status";
}

int scgi_block_next(const char *block, size_t block_len, size_t *pos,
                    const char **name, size_t *name_len,
                    const char **value, size_t *value_len)
{
    if (*pos >= block_len)
        return 0;
    return scgi_split_pair(block, block_len, pos, name, name_len, value, value_len)
           == SCGI_PARSE_DONE;
}
