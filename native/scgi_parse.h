/* scgi_parse: a pure, resumable parser for the SCGI request header
 * (netstring "<len>:<block>," whose block is NUL-terminated name/value pairs).
 *
 * Contract:
 *  - No I/O, no allocation. The caller owns the buffer; the parser only reads it.
 *  - The caller keeps every byte received on the connection in one buffer, starting
 *    with the first byte of the request, and calls scgi_parse() again with the same
 *    buffer (grown: buf may move, len only grows) each time more bytes arrive. The
 *    parser resumes where it stopped, so total work is linear in the header size.
 *  - The netstring length is checked against max_header before any of the block is
 *    needed, so a peer cannot make the caller buffer more than max_header + 24 bytes
 *    of header.
 *  - On SCGI_PARSE_DONE the result fields are valid; the body starts at
 *    buf[p->header_end] and is p->content_length bytes long.
 *  - Rules enforced (SCGI specification plus what real front ends send):
 *    netstring length: 1..20 digits, no sign, no leading zero, <= max_header;
 *    ':' after the digits and ',' after the block; the block's last byte is NUL;
 *    every name is non-empty and followed by a value (which may be empty);
 *    the first variable is CONTENT_LENGTH, a plain decimal (no sign, no padding,
 *    no leading zero unless it is "0", fits in 63 bits);
 *    SCGI must be present with value "1" unless SCGI_PARSE_LENIENT is set (then it
 *    may be absent but, if present, must still be "1");
 *    a name may appear once unless it starts with HTTP_ (front ends repeat
 *    those: nginx sends one HTTP_COOKIE per Cookie header; joining them is the
 *    caller's job), and HTTP_HOST may appear once too: a second REQUEST_URI,
 *    CONTENT_LENGTH, SCRIPT_NAME, HTTPS, REMOTE_ADDR... or Host is a request
 *    two readers could take apart; at most SCGI_PARSE_MAX_UNIQUE distinct such
 *    names per request (front ends send 15-60). The check is linear: a hash set
 *    of offsets on the stack, probed at most SCGI_PARSE_MAX_UNIQUE times per name.
 */
#ifndef SCGI_PARSE_H
#define SCGI_PARSE_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    SCGI_PARSE_DONE = 0,          /* header complete; result fields valid */
    SCGI_PARSE_AGAIN,             /* need more bytes */
    SCGI_PARSE_ERR_LENGTH_EMPTY,  /* ':' (or anything non-digit) before any digit */
    SCGI_PARSE_ERR_LENGTH_CHAR,   /* a byte other than a digit or ':' in the length */
    SCGI_PARSE_ERR_LENGTH_ZERO,   /* leading zero, or length 0 */
    SCGI_PARSE_ERR_TOO_LARGE,     /* netstring length above max_header */
    SCGI_PARSE_ERR_NO_COMMA,      /* byte after the block is not ',' */
    SCGI_PARSE_ERR_NOT_NUL_TERMINATED, /* block's last byte is not NUL */
    SCGI_PARSE_ERR_EMPTY_NAME,    /* a variable with an empty name */
    SCGI_PARSE_ERR_NAME_NO_VALUE, /* a name with no NUL-terminated value after it */
    SCGI_PARSE_ERR_NO_CONTENT_LENGTH, /* first variable is not CONTENT_LENGTH */
    SCGI_PARSE_ERR_BAD_CONTENT_LENGTH, /* CONTENT_LENGTH empty, signed, padded, non-digit, > 2^63-1 */
    SCGI_PARSE_ERR_NO_SCGI,       /* SCGI variable absent (strict mode) */
    SCGI_PARSE_ERR_BAD_SCGI,      /* SCGI present but not "1" */
    SCGI_PARSE_ERR_DUPLICATE,     /* a name other than HTTP_* (or HTTP_HOST) appears twice */
    SCGI_PARSE_ERR_TOO_MANY_VARS, /* more than SCGI_PARSE_MAX_UNIQUE names other than HTTP_* */
} scgi_parse_status;

/* Distinct names other than HTTP_* (HTTP_HOST included) one request may carry. */
#define SCGI_PARSE_MAX_UNIQUE 256

enum {
    SCGI_PARSE_LENIENT = 1 << 0, /* accept a request without the SCGI variable */
};

typedef struct {
    /* settings, set by scgi_parse_init */
    size_t max_header;   /* largest netstring length accepted */
    unsigned flags;      /* SCGI_PARSE_* flags */

    /* private state: do not touch */
    int state;
    size_t pos;          /* next byte of the buffer to examine */

    /* results, valid after SCGI_PARSE_DONE */
    size_t block_start;  /* offset of the first byte of the block */
    size_t block_len;    /* length of the block, including its final NUL */
    size_t header_end;   /* offset just past the ',' : where the body begins */
    uint64_t content_length;
    unsigned nvars;      /* number of name/value pairs in the block */
} scgi_parser;

void scgi_parse_init(scgi_parser *p, size_t max_header, unsigned flags);

/* buf[0..len) is every byte received so far. Returns DONE, AGAIN or an error;
 * after an error or DONE, further calls return the same status. */
scgi_parse_status scgi_parse(scgi_parser *p, const char *buf, size_t len);

/* A short English phrase for a status, never NULL (e.g. "netstring length has a leading zero"). */
const char *scgi_parse_strerror(scgi_parse_status st);

/* Iterates the name/value pairs of a block that scgi_parse accepted.
 * *pos starts at 0; each call sets *name and *value (NUL-terminated, inside block)
 * and returns 1, or returns 0 at the end. */
int scgi_block_next(const char *block, size_t block_len, size_t *pos,
                    const char **name, size_t *name_len,
                    const char **value, size_t *value_len);

#endif
