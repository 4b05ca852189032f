/* migrate: applies the embedded schema/NNNN_name.sql files in order, each once, each in its
 * own transaction, recorded in public.huying_migrations, under an advisory lock so that
 * replicas starting together take turns (the second finds nothing left to do). */
#ifndef HUYING_MIGRATE_H
#define HUYING_MIGRATE_H

/* The highest migration number compiled in; /readyz compares the database with it. */
int migrate_latest_version(void);

/* Connects to url (the owner role) and migrates. Prints one line per file applied. Returns
 * 0, or -1 after printing the error; a failed file leaves nothing of itself behind. */
int migrate_run(const char *url);

#endif
