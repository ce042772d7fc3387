/* scgi-mono-server: the command users run. It never starts Mono (it is linked
 * without it): it runs the worker, build/scgi-mono-worker, found beside its own
 * executable, with the same arguments, in the same process (exec), so that
 * sockets handed over at start (LISTEN_PID, fd 0) reach it unchanged. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

int main(int argc, char **argv)
{
    (void)argc;
    char *exe = g_file_read_link("/proc/self/exe", NULL);
    char *dir = exe ? g_path_get_dirname(exe) : g_strdup(".");
    char *worker = g_build_filename(dir, "scgi-mono-worker", NULL);
    execv(worker, argv);
    fprintf(stderr, "scgi-mono-server: cannot run %s: %s\n", worker, strerror(errno));
    return 1;
}
