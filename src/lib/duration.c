#include "duration.h"

#include <string.h>

static int parse_decimal(const char **p, uint64_t *whole, uint64_t *frac, uint64_t *frac_div)
{
	const char *s = *p;
	int digits = 0;

	*whole = 0;
	*frac = 0;
	*frac_div = 1;
	while (*s >= '0' && *s <= '9') {
		if (*whole > (UINT64_MAX - 9) / 10)
			return -1;
		*whole = *whole * 10 + (uint64_t)(*s - '0');
		s++;
		digits++;
	}
	if (*s == '.') {
		s++;
		while (*s >= '0' && *s <= '9') {
			/* Beyond a millionth the digits cannot change a millisecond
			 * count of any accepted unit; ignore them rather than overflow. */
			if (*frac_div < 1000000) {
				*frac = *frac * 10 + (uint64_t)(*s - '0');
				*frac_div *= 10;
			}
			s++;
			digits++;
		}
	}
	if (digits == 0)
		return -1;
	*p = s;
	return 0;
}

int dock_duration_parse(const char *text, uint64_t default_unit_ms, uint64_t *out_ms)
{
	static const struct {
		const char *name;
		uint64_t ms;
	} units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "d", 86400000 },
	};
	const char *p = text;
	uint64_t whole, frac, frac_div, unit = default_unit_ms, ms;
	size_t i;

	if (text == NULL || parse_decimal(&p, &whole, &frac, &frac_div) < 0)
		return -1;
	if (*p != '\0') {
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strcmp(p, units[i].name) == 0)
				break;
		if (i == sizeof(units) / sizeof(units[0]))
			return -1;
		unit = units[i].ms;
	}
	if (whole > DOCK_DURATION_MAX_MS / unit)
		return -1;
	ms = whole * unit + frac * unit / frac_div;
	if (ms > DOCK_DURATION_MAX_MS)
		return -1;
	*out_ms = ms;
	return 0;
}

int dock_size_parse(const char *text, uint64_t *out_bytes)
{
	const char *p = text;
	uint64_t whole, frac, frac_div, mult = 1;

	if (text == NULL || parse_decimal(&p, &whole, &frac, &frac_div) < 0)
		return -1;
	switch (*p) {
	case '\0': case 'B': break;
	case 'k': case 'K': mult = 1ULL << 10; p++; break;
	case 'M': mult = 1ULL << 20; p++; break;
	case 'G': mult = 1ULL << 30; p++; break;
	case 'T': mult = 1ULL << 40; p++; break;
	default: return -1;
	}
	if (mult > 1 && strcmp(p, "iB") == 0)
		p += 2;
	else if (strcmp(p, "B") == 0)
		p += 1;
	if (*p != '\0')
		return -1;
	if (whole > UINT64_MAX / mult / 2)
		return -1;
	whole = whole * mult + frac * mult / frac_div;
	if (whole == 0)
		return -1;
	*out_bytes = whole;
	return 0;
}
