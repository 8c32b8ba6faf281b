/* Test-only front end: `keys-cli ARGS` runs `airlock-sshd keys ARGS`
 * without linking the SSH server. */
#include "keys/keys_cli.h"

int
main(int argc, char **argv)
{
    argv[0] = "keys";
    return keys_cli_main(argc, argv);
}
