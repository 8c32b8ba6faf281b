/* airlock-sshd server entry point (grows into the listener; see issue 6). */
#include <stdio.h>

#include "sshd/server.h"

int
sshd_server_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "airlock-sshd: server not built yet\n");
    return 1;
}
