/* airlock-sshd: the SSH hatch's server, and `airlock-sshd keys ...`, the key
 * provisioning front end. This file only dispatches. */
#include <stdio.h>
#include <string.h>

#include "keys/keys_cli.h"
#include "sshd/server.h"

int
main(int argc, char **argv)
{
    /* Only as the sole argument: the server itself takes none. */
    if (argc == 2 &&
        (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)) {
        printf("airlock-sshd %s\n", AIRLOCK_VERSION);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "keys") == 0) {
        return keys_cli_main(argc - 1, argv + 1);
    }
    return sshd_server_main(argc, argv);
}
