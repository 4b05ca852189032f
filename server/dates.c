#include "dates.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int dates_check(const char *s)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return -1;
	int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	int m = (s[5] - '0') * 10 + (s[6] - '0');
	int d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1)
		return -1;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return d <= days[m - 1] + (m == 2 && leap) ? 0 : -1;
}

void dates_today(char out[11])
{
	time_t t = time(NULL) + 8 * 3600;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

int dates_check_timestamp(const char *s)
{
	char date[11];
	size_t n = strlen(s);
	if (n < 20 || (s[10] != 'T' && s[10] != 't'))
		return -1;
	memcpy(date, s, 10);
	date[10] = '\0';
	if (dates_check(date) < 0)
		return -1;
	const char *t = s + 11;
	if (!(t[0] >= '0' && t[0] <= '2' && t[1] >= '0' && t[1] <= '9' && t[2] == ':' && t[3] >= '0' && t[3] <= '5' &&
	      t[4] >= '0' && t[4] <= '9' && t[5] == ':' && t[6] >= '0' && t[6] <= '5' && t[7] >= '0' && t[7] <= '9'))
		return -1;
	if ((t[0] - '0') * 10 + (t[1] - '0') > 23)
		return -1;
	t += 8;
	if (*t == '.') {
		t++;
		size_t digits = strspn(t, "0123456789");
		if (digits == 0 || digits > 9)
			return -1;
		t += digits;
	}
	if ((*t == 'Z' || *t == 'z') && t[1] == '\0')
		return 0;
	if ((*t == '+' || *t == '-') && strlen(t) == 6 && t[1] >= '0' && t[1] <= '1' && t[2] >= '0' && t[2] <= '9' &&
	    t[3] == ':' && t[4] >= '0' && t[4] <= '5' && t[5] >= '0' && t[5] <= '9')
		return 0;
	return -1;
}
