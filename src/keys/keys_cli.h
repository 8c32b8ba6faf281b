/* `airlock-sshd keys check|list|...`: the key provisioning front end. */
#ifndef AIRLOCK_KEYS_KEYS_CLI_H
#define AIRLOCK_KEYS_KEYS_CLI_H

/* argv[0] is "keys"; returns the process exit status. */
int keys_cli_main(int argc, char **argv);

#endif
