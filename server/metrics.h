/* metrics: Prometheus counters, kept as atomics (the only mutable globals besides the pool). */
#ifndef HUYING_METRICS_H
#define HUYING_METRICS_H

#include "buf.h"

/* Records one answered request of route index route (-1: no route matched). */
void metrics_request(int route_index, int status, double seconds);
/* Appends the exposition text (version 0.0.4) to out. */
void metrics_render(buf *out);

#endif
