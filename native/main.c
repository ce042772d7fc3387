/* scgi-mono-server: the supervisor (supervisor.h). It never starts Mono and is
 * linked without it; the workers it starts are build/scgi-mono-worker. */
#include "supervisor.h"

int main(int argc, char **argv)
{
    return supervisor_main(argc, argv);
}
