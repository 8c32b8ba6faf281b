/* The setuser front end: `setuser USER[:GROUP] CMD [ARGS...]`. */
#ifndef AIRLOCK_PRIVDROP_SETUSER_H
#define AIRLOCK_PRIVDROP_SETUSER_H

/* Entry point for build/setuser and `airlock setuser`; argv[0] is the
 * program name. Returns an exit status only on failure (on success it
 * execs CMD). */
int setuser_main(int argc, char **argv);

#endif
