/* ratelimit: a token bucket per token subject (district + sub), HUYING_RATE_LIMIT requests
 * per second with bursts of HUYING_RATE_BURST. It lives in each replica's memory: with N
 * replicas behind a balancer a subject gets up to N times the rate, which is the usual
 * trade for keeping the daemon free of shared state (DESIGN §3). */
#ifndef HUYING_RATELIMIT_H
#define HUYING_RATELIMIT_H

#include <stdint.h>

/* Takes one request from the subject's bucket. Returns 0 when allowed, or the whole
 * seconds to wait (>= 1) when the bucket is empty. Always 0 when the limit is off. */
int ratelimit_take(int64_t district, const char *sub);

#endif
