/* request: see request.h. */
#include "request.h"

#include <string.h>

#include "body.h"
#include "response.h"
#include "scgi_parse.h"

void request_init(request *rq, struct conn *con, const char *peer, int apache_status)
{
    memset(rq, 0, sizeof *rq);
    rq->con = con;
    rq->peer = peer;
    rq->spool_fd = -1;
    rq->r.apache_status = apache_status;
}

void request_reset(request *rq, int apache_status)
{
    body_reset(rq);
    rq->vars = NULL;
    rq->vars_len = 0;
    resp_clear(&rq->r);
    rq->r.apache_status = apache_status;
}

void request_clear(request *rq)
{
    body_reset(rq);
    if (rq->http_vars)
        g_string_free(rq->http_vars, TRUE);
    rq->http_vars = NULL;
    resp_clear(&rq->r);
}

const char *request_var(const request *rq, const char *name, gsize *len)
{
    gsize pos = 0;
    const char *n, *v;
    size_t nl, vl;
    while (scgi_block_next(rq->vars, rq->vars_len, &pos, &n, &nl, &v, &vl)) {
        if (strcmp(n, name) == 0) {
            if (len)
                *len = vl;
            return v;
        }
    }
    return NULL;
}
