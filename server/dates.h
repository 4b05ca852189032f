/* dates: calendar dates as the API writes them (YYYY-MM-DD, Asia/Shanghai business days). */
#ifndef HUYING_DATES_H
#define HUYING_DATES_H

/* 0 when s is a real date YYYY-MM-DD between 1900 and 2200 (2026-02-30 is not), else -1.
 * Shaped to serve as a json_field check. */
int dates_check(const char *s);

/* 0 when s is an RFC 3339 timestamp with an offset (2026-01-05T08:42:13+08:00, fractions
 * and Z allowed) on a real date, else -1. Shaped to serve as a json_field check. */
int dates_check_timestamp(const char *s);

/* Today in Asia/Shanghai (UTC+8 all year: China has no daylight saving) as YYYY-MM-DD. */
void dates_today(char out[11]);

#endif
