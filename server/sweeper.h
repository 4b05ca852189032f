/* sweeper: the background thread of every daemon that fires due timers (DESIGN §5): each
 * pass runs api.sweep(), which claims due timers with FOR UPDATE SKIP LOCKED, so any number
 * of replicas may sweep at once and each timer fires exactly once. */
#ifndef HUYING_SWEEPER_H
#define HUYING_SWEEPER_H

#include "buf.h"

/* Starts the thread (nothing when HUYING_SWEEP_INTERVAL_MS is 0). Returns 0 or -1. */
int sweeper_start(void);
/* Asks the thread to stop and waits for its current pass to end. */
void sweeper_stop(void);
/* Appends the sweeper's Prometheus counters to out. */
void sweeper_metrics(buf *out);

#endif
