/* The container environment: what airlock was started with, written under
 * AIRLOCK_ROOT for later sessions and cron jobs (phusion's layout), and read
 * back after the startup scripts so they can change what services and the
 * app get.
 *
 *   /etc/container_environment/NAME   0700 dir, 0600 files: the value, exact
 *   /etc/container_environment.sh     0600: export NAME='value' lines
 *   /etc/container_environment.json   0600: one JSON object
 *
 * The directory and the .sh are byte-exact; the JSON is exact for UTF-8 and
 * maps each byte that is not valid UTF-8 to \uDC80..\uDCFF (see
 * environ_format_json). Secret-bearing variables (environ_name_is_secret)
 * are never written; they are kept in the environment handed back by
 * environ_load. Everything here runs before the main loop; allocations are
 * bounded by the ENVIRON_MAX_* limits. */
#ifndef AIRLOCK_INIT_ENVIRON_H
#define AIRLOCK_INIT_ENVIRON_H

#include <stdbool.h>
#include <stddef.h>

/* Variables read back from the directory, at most. */
#define ENVIRON_MAX_VARS 4096
/* One "NAME=value" string with its NUL, at most: the kernel's limit for a
 * single exec string (MAX_ARG_STRLEN, 32 pages); a longer one would make
 * every later execve fail with E2BIG. */
#define ENVIRON_MAX_STRING (128 * 1024)
/* All strings read back, at most: half of the usual 2 MiB exec budget, the
 * rest is left for argv. */
#define ENVIRON_MAX_TOTAL (1024 * 1024)
/* Longest name written as a file: room for write_file_atomic's temp suffix
 * within NAME_MAX. */
#define ENVIRON_MAX_NAME 200

/* AIRLOCK_AUTHORIZED_KEYS* (keys, possibly inline) and AIRLOCK_SSH_HOST_KEY*
 * (a host key, possibly inline). */
bool environ_name_is_secret(const char *name, size_t len);

/* A name that can be a file in the directory: not empty, at most
 * ENVIRON_MAX_NAME bytes, no '/', '=' or NUL, no leading '.' (which also
 * rules out "." and ".."). Other names are not written anywhere. */
bool environ_name_is_file_safe(const char *name, size_t len);

/* A name the .sh exports: a shell identifier [A-Za-z_][A-Za-z0-9_]* that is
 * not per-user or shell-managed (HOME, USER, LOGNAME, SHELL, GROUP, UID,
 * GID, PWD, OLDPWD, SHLVL, _) nor read-only in bash (EUID, PPID, BASHOPTS,
 * SHELLOPTS, BASH_VERSINFO), so sourcing it as any user neither fails nor
 * takes root's HOME. */
bool environ_name_is_shell_safe(const char *name, size_t len);

/* Formats vars[0..n) ("NAME=value", sorted by name, no duplicates) as the
 * .sh file: "export NAME='value'\n" per shell-safe name, ' written as '\''.
 * *ret_buf is malloc'ed (the caller frees it). 0 or -ENOMEM/-EOVERFLOW. */
int environ_format_sh(char *const vars[],
                      size_t n,
                      char **ret_buf,
                      size_t *ret_len);

/* Formats vars[0..n) as a JSON object on one line ending in '\n'. Valid
 * UTF-8 is kept as is; '"', '\\' and control bytes are escaped; a byte that
 * is not part of valid UTF-8 (stray, overlong, surrogate, > U+10FFFF) is
 * written as \uDCXX with XX its value (PEP 383's "surrogateescape": Python's
 * json.loads + str.encode("utf-8", "surrogateescape") gives the bytes back;
 * other readers see U+FFFD). 0 or -ENOMEM/-EOVERFLOW. */
int environ_format_json(char *const vars[],
                        size_t n,
                        char **ret_buf,
                        size_t *ret_len);

/* Writes envp to the directory, the .sh and the .json under AIRLOCK_ROOT.
 * The directory is made to mirror envp: files of other names are removed.
 * For duplicate names the first one wins (as getenv does). Leaves out
 * secrets and names that are not file-safe. Every file is replaced
 * atomically (temp file + rename, never following a symlink) but not
 * fsync'ed: it is rebuilt at every start. Returns 0 or -errno (the caller
 * logs). */
int environ_write(char *const envp[]);
int environ_write_in(const char *root, char *const envp[]);

/* Whether environ_write_in(root, envp) would change nothing: the directory
 * (0700, ours) holds exactly one file per written variable, each 0600 with
 * its exact value, and the .sh and .json are what would be written. Reads
 * only (an fstat, an open and a read per file), so PID 1 can ask before it
 * forks a writer: a restarted container finds its environment as it left
 * it. Gives up (false) without reading when more than max_vars variables
 * or max_bytes of "NAME=value" would be compared; false too on any error
 * or doubt, so the caller writes. */
bool environ_is_current_in(const char *root,
                           char *const envp[],
                           size_t max_vars,
                           size_t max_bytes);

/* Reads the directory back after the startup scripts: a new NULL-terminated
 * array of "NAME=value" strings (sorted by name) for the services and the
 * app, and rewrites the .sh and .json from it. orig_envp must be what was
 * given to environ_write:
 *   - a file that still holds exactly the value of orig_envp is taken as is;
 *     any other value loses one trailing '\n' (phusion's rule, so
 *     `echo v > /etc/container_environment/NAME` works);
 *   - secret variables are never read from the directory; those of
 *     orig_envp are appended unchanged, so the SSH service still gets them.
 * Files that are not regular, names that are not valid, values with a NUL
 * byte or over the limits are skipped with a warning. Returns the number of
 * variables (>= 0) or -errno; free the array with environ_free. */
int environ_load(char *const orig_envp[], char ***ret_envp);
int
environ_load_in(const char *root, char *const orig_envp[], char ***ret_envp);

/* The file-content half of environ_load (pure, for the fuzzer): s holds
 * "NAME=" (nlen bytes of a name environ_name_is_file_safe accepts, then
 * '=') followed by the vlen bytes read from the file NAME, with room for
 * one more byte. Applies the trailing
 * '\n' rule above against orig_envp and NUL-terminates s in place. 0, or
 * -EINVAL when the value holds a NUL byte (the file is skipped). */
int
environ_parse_value(char *s, size_t nlen, size_t vlen, char *const orig_envp[]);

/* Frees an array from environ_load; accepts NULL, returns NULL. */
char **environ_free(char **envp);

#endif
