/* deliverer: the webhook deliverer threads of this replica (deliverer.c). */
#ifndef HUYING_DELIVERER_H
#define HUYING_DELIVERER_H

#include "buf.h"
#include "netguard.h"

/* Parses HUYING_WEBHOOK_ALLOW, starts libcurl and (unless HUYING_WEBHOOK_INTERVAL_MS is 0)
 * the threads. Returns 0, or -1 after printing why. */
int deliverer_start(void);
/* Stops the threads after the attempts in hand. */
void deliverer_stop(void);
/* The parsed allow-list (valid between start and stop), for the subscription checks. */
const netguard_allow *deliverer_allow(void);
/* Appends this replica's webhook counters in Prometheus text. */
void deliverer_metrics(buf *out);

#endif
