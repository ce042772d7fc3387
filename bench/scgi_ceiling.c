/* scgi_ceiling: the protocol ceiling of the benchmark.
 *
 * A trivial SCGI responder with no application behind it: it reads each SCGI
 * request whole (netstring header block, then CONTENT_LENGTH body bytes), answers
 * a fixed response whose body has the size of the page the benchmark asked for,
 * and closes the connection. What nginx plus SCGI costs with nothing behind it.
 * It is never a test result, only the ceiling the real servers are compared to.
 *
 *   scgi_ceiling HOST PORT [THREADS]
 *
 * Pages, chosen by REQUEST_URI's path (same bodies as bench/app):
 *   /hello.ashx   "Hello, World" (12 bytes)
 *   /page.aspx    2430 bytes of HTML-ish filler ending with "<!-- bench-page-end -->" and </html>
 *   /big.ashx     65536 bytes, identical to big.ashx (1024 lines of 64 bytes)
 *   /upload.ashx  the number of body bytes received, in decimal
 *   otherwise     404
 * A malformed request gets "Status: 400" and the connection is closed.
 *
 * Design: THREADS event loops (default 1), each with its own epoll set sharing the
 * listening socket (EPOLLEXCLUSIVE); non-blocking sockets; one struct per
 * connection, freed in one place (conn_close). No time-outs: only a front end on
 * loopback talks to it, for the length of a benchmark run. SIGTERM/SIGINT exit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_HEADER 65536 /* bytes of netstring header block */
#define BIG_SIZE 65536
#define PAGE_SIZE_BYTES 2430

enum state { ST_LEN, ST_HEADER, ST_BODY, ST_WRITE };

typedef struct conn {
	int fd;
	enum state st;
	size_t hdr_len;   /* netstring length, valid from ST_HEADER */
	size_t hdr_got;   /* bytes of header block + ',' received */
	char *hdr;        /* hdr_len + 1 bytes */
	char lenbuf[8];
	size_t lenbuf_n;
	unsigned long long body_left;
	unsigned long long body_total;
	char head[256];   /* the response head (and a small body) */
	size_t head_len;
	const char *body; /* borrowed, static */
	size_t body_len;
	size_t sent;      /* bytes of head + body written */
} conn;

static char big_body[BIG_SIZE];
static char page_body[PAGE_SIZE_BYTES];
static int listen_fd;

static void make_bodies(void)
{
	/* big.ashx: line i = 5-digit i, a space, 57 letters starting at 'a' + i % 26, '\n' */
	char *p = big_body;
	for (int i = 0; i < 1024; i++) {
		p += sprintf(p, "%05d ", i); /* 6 bytes; the NUL is overwritten next */
		for (int j = 0; j < 57; j++)
			*p++ = (char)('a' + (i + j) % 26);
		*p++ = '\n';
	}
	static const char tail[] = "<!-- bench-page-end -->\n</body>\n</html>\n";
	static const char headp[] = "<!DOCTYPE html>\n<html>\n<body>\n";
	memset(page_body, 'x', sizeof page_body);
	memcpy(page_body, headp, sizeof headp - 1);
	for (size_t i = 80; i < sizeof page_body; i += 80)
		page_body[i] = '\n';
	memcpy(page_body + sizeof page_body - (sizeof tail - 1), tail, sizeof tail - 1);
}

static void conn_close(int ep, conn *c)
{
	if (!c)
		return;
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->hdr);
	free(c);
}

static void set_response(conn *c, int status, const char *body, size_t len)
{
	const char *reason = status == 200 ? "OK" : status == 404 ? "Not Found" : "Bad Request";
	c->head_len = (size_t)snprintf(c->head, sizeof c->head,
	                               "Status: %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n\r\n",
	                               status, reason, len);
	c->body = body;
	c->body_len = len;
	c->sent = 0;
	c->st = ST_WRITE;
}

/* The value of variable name in the header block, or NULL. */
static const char *hdr_get(const conn *c, const char *name)
{
	const char *p = c->hdr, *end = c->hdr + c->hdr_len;
	while (p < end) {
		const char *k = p;
		const char *kz = memchr(k, '\0', (size_t)(end - k));
		if (!kz)
			return NULL;
		const char *v = kz + 1;
		const char *vz = v < end ? memchr(v, '\0', (size_t)(end - v)) : NULL;
		if (!vz)
			return NULL;
		if (strcmp(k, name) == 0)
			return v;
		p = vz + 1;
	}
	return NULL;
}

/* Header block complete: validate it, start the body. Returns 0 or -1 (bad). */
static int header_done(conn *c)
{
	if (c->hdr[c->hdr_len] != ',' || c->hdr_len == 0 || c->hdr[c->hdr_len - 1] != '\0')
		return -1;
	const char *cl = hdr_get(c, "CONTENT_LENGTH");
	if (!cl || !*cl || strlen(cl) > 15)
		return -1;
	unsigned long long n = 0;
	for (const char *q = cl; *q; q++) {
		if (*q < '0' || *q > '9')
			return -1;
		n = n * 10 + (unsigned)(*q - '0');
	}
	c->body_left = n;
	c->body_total = n;
	c->st = ST_BODY;
	return 0;
}

static void choose_response(conn *c)
{
	const char *uri = hdr_get(c, "REQUEST_URI");
	if (!uri)
		uri = hdr_get(c, "SCRIPT_NAME");
	if (!uri)
		uri = "";
	size_t plen = strcspn(uri, "?");
	if (plen == 11 && memcmp(uri, "/hello.ashx", 11) == 0) {
		set_response(c, 200, "Hello, World", 12);
	} else if (plen == 10 && memcmp(uri, "/page.aspx", 10) == 0) {
		set_response(c, 200, page_body, sizeof page_body);
	} else if (plen == 9 && memcmp(uri, "/big.ashx", 9) == 0) {
		set_response(c, 200, big_body, sizeof big_body);
	} else if (plen == 12 && memcmp(uri, "/upload.ashx", 12) == 0) {
		/* the decimal length goes after the head, inside c->head */
		char num[24];
		int n = snprintf(num, sizeof num, "%llu", c->body_total);
		set_response(c, 200, NULL, (size_t)n);
		memcpy(c->head + c->head_len, num, (size_t)n);
		c->head_len += (size_t)n;
		c->body_len = 0;
	} else {
		set_response(c, 404, "Not Found\n", 10);
	}
}

/* Feeds bytes to the request parser. Returns 0 (need more or done), -1 (bad). */
static int feed(conn *c, const char *buf, size_t n)
{
	size_t i = 0;
	while (i < n && c->st != ST_WRITE) {
		switch (c->st) {
		case ST_LEN: {
			char ch = buf[i++];
			if (ch == ':') {
				if (c->lenbuf_n == 0)
					return -1;
				size_t len = 0;
				for (size_t k = 0; k < c->lenbuf_n; k++)
					len = len * 10 + (size_t)(c->lenbuf[k] - '0');
				if (len > MAX_HEADER)
					return -1;
				c->hdr_len = len;
				c->hdr = malloc(len + 1);
				if (!c->hdr)
					abort();
				c->hdr_got = 0;
				c->st = ST_HEADER;
			} else if (ch >= '0' && ch <= '9' && c->lenbuf_n < 6 &&
			           !(c->lenbuf_n == 0 && ch == '0')) {
				c->lenbuf[c->lenbuf_n++] = ch;
			} else {
				return -1;
			}
			break;
		}
		case ST_HEADER: {
			size_t want = c->hdr_len + 1 - c->hdr_got;
			size_t take = n - i < want ? n - i : want;
			memcpy(c->hdr + c->hdr_got, buf + i, take);
			c->hdr_got += take;
			i += take;
			if (c->hdr_got == c->hdr_len + 1 && header_done(c) < 0)
				return -1;
			break;
		}
		case ST_BODY: {
			size_t take = n - i;
			if (take > c->body_left)
				take = (size_t)c->body_left; /* bytes past the body are ignored */
			c->body_left -= take;
			i += take;
			break;
		}
		case ST_WRITE:
			break;
		}
		if (c->st == ST_BODY && c->body_left == 0)
			choose_response(c);
	}
	return 0;
}

/* Writes what it can. Returns 1 when the whole response is out, 0 if the socket
 * is full, -1 on error. */
static int flush_response(conn *c)
{
	while (c->sent < c->head_len + c->body_len) {
		struct iovec iov[2];
		int cnt = 0;
		if (c->sent < c->head_len) {
			iov[cnt].iov_base = c->head + c->sent;
			iov[cnt].iov_len = c->head_len - c->sent;
			cnt++;
			if (c->body_len) {
				iov[cnt].iov_base = (void *)c->body;
				iov[cnt].iov_len = c->body_len;
				cnt++;
			}
		} else {
			size_t off = c->sent - c->head_len;
			iov[cnt].iov_base = (void *)(c->body + off);
			iov[cnt].iov_len = c->body_len - off;
			cnt++;
		}
		struct msghdr msg = { .msg_iov = iov, .msg_iovlen = (size_t)cnt };
		ssize_t w = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		c->sent += (size_t)w;
	}
	return 1;
}

/* Handles readiness of one connection; frees it when it is finished. */
static void on_conn(int ep, conn *c, uint32_t events)
{
	if (c->st != ST_WRITE) {
		char buf[65536];
		for (;;) {
			ssize_t r = read(c->fd, buf, sizeof buf);
			if (r < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					break;
				conn_close(ep, c);
				return;
			}
			if (r == 0) { /* peer closed before the request was whole */
				conn_close(ep, c);
				return;
			}
			if (feed(c, buf, (size_t)r) < 0) {
				set_response(c, 400, "Bad Request\n", 12);
				break;
			}
			if (c->st == ST_WRITE)
				break;
		}
		if (c->st != ST_WRITE)
			return;
	} else if (events & (EPOLLERR | EPOLLHUP)) {
		conn_close(ep, c);
		return;
	}
	int rc = flush_response(c);
	if (rc == 0) {
		struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };
		if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
			conn_close(ep, c);
		return;
	}
	/* done (or failed): SCGI ends the response by closing the connection */
	conn_close(ep, c);
}

static void on_accept(int ep)
{
	for (;;) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return; /* EAGAIN, or out of descriptors: try again on the next event */
		}
		conn *c = calloc(1, sizeof *c);
		if (!c)
			abort();
		c->fd = fd;
		c->st = ST_LEN;
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
		}
	}
}

static void *loop(void *arg)
{
	(void)arg;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) {
		perror("epoll_create1");
		exit(1);
	}
	struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = NULL };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &ev) < 0) {
		perror("epoll_ctl listen");
		exit(1);
	}
	struct epoll_event evs[128];
	for (;;) {
		int n = epoll_wait(ep, evs, 128, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("epoll_wait");
			exit(1);
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == NULL)
				on_accept(ep);
			else
				on_conn(ep, evs[i].data.ptr, evs[i].events);
		}
	}
	return NULL;
}

static void on_signal(int sig)
{
	(void)sig;
	_exit(0);
}

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: %s HOST PORT [THREADS]\n", argv[0]);
		return 2;
	}
	int threads = argc == 4 ? atoi(argv[3]) : 1;
	if (threads < 1 || threads > 64) {
		fprintf(stderr, "scgi_ceiling: THREADS must be 1..64\n");
		return 2;
	}
	make_bodies();
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "scgi_ceiling: bad IPv4 address %s\n", argv[1]);
		return 2;
	}
	listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(listen_fd, 1024) < 0) {
		perror("scgi_ceiling: listen");
		return 1;
	}
	fprintf(stderr, "scgi_ceiling ready: %s:%s, %d thread(s)\n", argv[1], argv[2], threads);
	for (int i = 1; i < threads; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, loop, NULL) != 0) {
			perror("pthread_create");
			return 1;
		}
	}
	loop(NULL);
	return 0;
}
