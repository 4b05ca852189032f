#include "ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "config.h"

#define SLOTS   4096 /* subjects tracked at once; the least recently seen one is replaced */
#define STRIPES 64

typedef struct bucket {
	uint64_t key; /* 0: free */
	double tokens;
	double last; /* seconds, CLOCK_MONOTONIC */
} bucket;

static bucket slots[SLOTS];
static pthread_mutex_t locks[STRIPES] = {[0 ... STRIPES - 1] = PTHREAD_MUTEX_INITIALIZER};

/* FNV-1a over the district and sub; never 0. */
static uint64_t subject_key(int64_t district, const char *sub)
{
	uint64_t h = 1469598103934665603ULL;
	for (int i = 0; i < 8; i++) {
		h ^= (uint64_t)((district >> (8 * i)) & 0xFF);
		h *= 1099511628211ULL;
	}
	for (const unsigned char *p = (const unsigned char *)sub; *p; p++) {
		h ^= *p;
		h *= 1099511628211ULL;
	}
	return h ? h : 1;
}

int ratelimit_take(int64_t district, const char *sub)
{
	if (cfg.rate_limit <= 0)
		return 0;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	double now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	uint64_t key = subject_key(district, sub);
	/* Two candidate slots in the same stripe: the subject's own, or the staler one. */
	size_t i = (size_t)(key % SLOTS) & ~(size_t)1;
	pthread_mutex_t *mu = &locks[(i / 2) % STRIPES];
	pthread_mutex_lock(mu);
	bucket *b = slots[i].key == key ? &slots[i] : slots[i + 1].key == key ? &slots[i + 1] : NULL;
	if (!b) {
		b = slots[i].last <= slots[i + 1].last ? &slots[i] : &slots[i + 1];
		b->key = key;
		b->tokens = cfg.rate_burst;
		b->last = now;
	}
	b->tokens = fmin((double)cfg.rate_burst, b->tokens + (now - b->last) * cfg.rate_limit);
	b->last = now;
	int wait = 0;
	if (b->tokens >= 1)
		b->tokens -= 1;
	else
		wait = (int)ceil((1 - b->tokens) / cfg.rate_limit);
	pthread_mutex_unlock(mu);
	return wait < 0 ? 1 : wait;
}
