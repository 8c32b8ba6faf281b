/* build/setuser: the same front end as `airlock setuser`. */
#include "privdrop/setuser.h"

int
main(int argc, char **argv)
{
    return setuser_main(argc, argv);
}
