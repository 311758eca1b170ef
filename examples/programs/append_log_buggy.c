/*
 * append_log.c without the fsync of the directory after the log is
 * created: every record is fsynced, yet a power loss before anything else
 * syncs the directory takes the log's name, and with it every acknowledged
 * record. A process kill never shows it (the kernel keeps the name);
 * crashproof explore-cmd does: see docs/any-program.md.
 */
#define NO_DIR_FSYNC
#include "append_log.c"
