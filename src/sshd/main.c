/* airlock-sshd: the SSH hatch's server, and `airlock-sshd keys ...`, the key
 * provisioning front end. This file only dispatches. */
#include <string.h>

#include "keys/keys_cli.h"
#include "sshd/server.h"

int
main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "keys") == 0) {
        return keys_cli_main(argc - 1, argv + 1);
    }
    return sshd_server_main(argc, argv);
}
