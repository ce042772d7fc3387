/* status_page: native/status_page.html, the status listener's /status page,
 * compiled into scgi-mono-server (the Makefile generates build/gen/status_page.c
 * from the HTML with native/embed.sh). One self-contained file: inline style
 * and script, no external resources. */
#ifndef STATUS_PAGE_H
#define STATUS_PAGE_H

#include <glib.h>

extern const char status_page_html[];
extern const gsize status_page_html_len;

#endif
