/* Test-only front end: runs the collector as `airlock syslogd` would, for
 * integration tests built before build/airlock dispatches to it. */
#include "syslogd/syslogd.h"

int
main(int argc, char **argv)
{
    argv[0] = (char *)"syslogd";
    return syslogd_main(argc, argv);
}
