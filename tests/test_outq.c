/* Unit tests for outq: parked response bytes, memory and files, in order. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "outq.h"

typedef struct {
    int sock[2];   /* [0] the server's side (non-blocking), [1] the client's */
    char *dir;
} fixture;

static void fx_setup(fixture *fx, gconstpointer data)
{
    (void)data;
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fx->sock), ==, 0);
    g_assert_cmpint(fcntl(fx->sock[0], F_SETFL, O_NONBLOCK), ==, 0);
    fx->dir = g_dir_make_tmp("test-outq-XXXXXX", NULL);
    g_assert_nonnull(fx->dir);
}

static void fx_teardown(fixture *fx, gconstpointer data)
{
    (void)data;
    close(fx->sock[0]);
    close(fx->sock[1]);
    char *cmd = g_strdup_printf("rm -rf '%s'", fx->dir);
    g_assert_cmpint(system(cmd), ==, 0);
    g_free(cmd);
    g_free(fx->dir);
}

/* A file of n bytes, byte i = (i * 7 + 3) & 0xff; opened read-only. */
static int pattern_file(fixture *fx, gsize n)
{
    char *path = g_build_filename(fx->dir, "f", NULL);
    guint8 *b = g_malloc(n);
    for (gsize i = 0; i < n; i++)
        b[i] = (guint8)(i * 7 + 3);
    g_assert_true(g_file_set_contents(path, (char *)b, (gssize)n, NULL));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    g_assert_cmpint(fd, >=, 0);
    g_free(b);
    g_free(path);
    return fd;
}

/* Reads what is available on the client side (non-blocking) into out. */
static void drain(fixture *fx, GByteArray *out)
{
    char buf[65536];
    for (;;) {
        ssize_t n = recv(fx->sock[1], buf, sizeof buf, MSG_DONTWAIT);
        if (n <= 0)
            return;
        g_byte_array_append(out, (guint8 *)buf, (guint)n);
    }
}

static int open_fds(void)
{
    int n = 0;
    GDir *d = g_dir_open("/proc/self/fd", 0, NULL);
    while (g_dir_read_name(d))
        n++;
    g_dir_close(d);
    return n;
}

static void test_memory_and_files_keep_their_order(fixture *fx, gconstpointer data)
{
    (void)data;
    outq q;
    outq_init(&q);
    g_assert_true(outq_empty(&q));
    int fd = pattern_file(fx, 1000);
    outq_push(&q, "head|", 5);
    struct iovec iov[2] = {{(void *)"ab", 2}, {(void *)"c|", 2}};
    outq_push_iov(&q, iov, 2);
    g_assert_true(outq_push_file(&q, fd, 10, 20));
    close(fd); /* the queue holds its own descriptor */
    outq_push(&q, "|tail", 5);
    g_assert_cmpuint(q.mem, ==, 14);
    g_assert_cmpuint(q.files, ==, 1);
    gsize sent = 0;
    g_assert_cmpint(outq_flush(&q, fx->sock[0], 0, &sent), ==, OUTQ_DONE);
    g_assert_cmpuint(sent, ==, 34);
    g_assert_true(outq_empty(&q));
    g_assert_cmpuint(q.mem, ==, 0);
    g_assert_cmpuint(q.files, ==, 0);
    GByteArray *out = g_byte_array_new();
    drain(fx, out);
    GString *want = g_string_new("head|abc|");
    for (int i = 10; i < 30; i++)
        g_string_append_c(want, (char)(guint8)(i * 7 + 3));
    g_string_append(want, "|tail");
    g_assert_cmpmem(out->data, out->len, want->str, want->len);
    g_string_free(want, TRUE);
    g_byte_array_free(out, TRUE);
}

/* A socket that fills up: AGAIN, then the rest once the client reads, in order. */
static void test_a_full_socket_parks_the_rest(fixture *fx, gconstpointer data)
{
    (void)data;
    const gsize file_len = 3 << 20;
    int fd = pattern_file(fx, file_len);
    outq q;
    outq_init(&q);
    guint8 *mem = g_malloc(1 << 20);
    for (gsize i = 0; i < (1 << 20); i++)
        mem[i] = (guint8)(i % 251);
    outq_push(&q, mem, 1 << 20);
    g_assert_true(outq_push_file(&q, fd, 0, (gint64)file_len));
    outq_push(&q, "end", 3);
    GByteArray *out = g_byte_array_new();
    int again = 0;
    outq_status st;
    while ((st = outq_flush(&q, fx->sock[0], 0, NULL)) == OUTQ_AGAIN) {
        again++;
        drain(fx, out);
    }
    g_assert_cmpint(st, ==, OUTQ_DONE);
    g_assert_cmpint(again, >, 0);
    drain(fx, out);
    g_assert_cmpuint(out->len, ==, (1 << 20) + file_len + 3);
    g_assert_cmpmem(out->data, 1 << 20, mem, 1 << 20);
    for (gsize i = 0; i < file_len; i++)
        if (out->data[(1 << 20) + i] != (guint8)(i * 7 + 3))
            g_error("file byte %zu out of place", i);
    g_assert_cmpmem(out->data + out->len - 3, 3, "end", 3);
    close(fd);
    g_free(mem);
    g_byte_array_free(out, TRUE);
}

static void test_budget_bounds_one_flush(fixture *fx, gconstpointer data)
{
    (void)data;
    int big = 4 << 20;
    g_assert_cmpint(setsockopt(fx->sock[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big), ==, 0);
    outq q;
    outq_init(&q);
    char piece[1000];
    memset(piece, 'x', sizeof piece);
    for (int i = 0; i < 100; i++) {
        struct iovec iov = {piece, sizeof piece};
        outq_push_iov(&q, &iov, 1);
        if (i % 10 == 0) { /* a file between memory pieces starts new memory segments */
            int fd = pattern_file(fx, 10);
            g_assert_true(outq_push_file(&q, fd, 0, 10));
            close(fd);
        }
    }
    gsize sent = 0;
    g_assert_cmpint(outq_flush(&q, fx->sock[0], 5000, &sent), ==, OUTQ_AGAIN);
    g_assert_cmpuint(sent, >=, 5000);
    g_assert_cmpuint(sent, <, 100 * 1000);
    g_assert_cmpint(outq_flush(&q, fx->sock[0], 0, &sent), ==, OUTQ_DONE);
    outq_clear(&q);
}

static void test_a_short_file_is_reported(fixture *fx, gconstpointer data)
{
    (void)data;
    int fd = pattern_file(fx, 100);
    outq q;
    outq_init(&q);
    g_assert_true(outq_push_file(&q, fd, 50, 80)); /* 30 bytes past the end */
    outq_push(&q, "after", 5);
    gsize sent = 0;
    g_assert_cmpint(outq_flush(&q, fx->sock[0], 0, &sent), ==, OUTQ_SHORT_FILE);
    g_assert_cmpuint(sent, ==, 50);
    outq_clear(&q);
    close(fd);
}

static void test_a_closed_peer_is_an_error(fixture *fx, gconstpointer data)
{
    (void)data;
    outq q;
    outq_init(&q);
    outq_push(&q, "x", 1);
    close(fx->sock[1]);
    fx->sock[1] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0); /* for teardown */
    errno = 0;
    g_assert_cmpint(outq_flush(&q, fx->sock[0], 0, NULL), ==, OUTQ_ERROR);
    g_assert_cmpint(errno, ==, EPIPE);
    g_assert_false(outq_empty(&q));
    outq_clear(&q);
    g_assert_true(outq_empty(&q));
    g_assert_cmpuint(q.mem, ==, 0);
}

static void test_clear_closes_parked_files(fixture *fx, gconstpointer data)
{
    (void)data;
    int fd = pattern_file(fx, 100);
    int before = open_fds();
    outq q;
    outq_init(&q);
    for (int i = 0; i < 3; i++)
        g_assert_true(outq_push_file(&q, fd, 0, 100));
    outq_push(&q, "x", 1);
    g_assert_cmpint(open_fds(), ==, before + 3);
    outq_clear(&q);
    g_assert_cmpint(open_fds(), ==, before);
    g_assert_cmpuint(q.files, ==, 0);
    outq_clear(NULL);
    g_assert_true(outq_push_file(&q, fd, 0, 0)); /* nothing to park: no descriptor */
    g_assert_true(outq_empty(&q));
    g_assert_cmpint(open_fds(), ==, before);
    close(fd);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    g_test_init(&argc, &argv, NULL);
#define ADD(name) g_test_add("/outq/" #name, fixture, NULL, fx_setup, test_##name, fx_teardown)
    ADD(memory_and_files_keep_their_order);
    ADD(a_full_socket_parks_the_rest);
    ADD(budget_bounds_one_flush);
    ADD(a_short_file_is_reported);
    ADD(a_closed_peer_is_an_error);
    ADD(clear_closes_parked_files);
    return g_test_run();
}
