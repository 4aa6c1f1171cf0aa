/* ctl_time - the TIME of `--at TIME` and `--since TIME`: an RFC 3339
 * date-time (RFC 3339 5.6: "2026-12-07T07:00:00Z", "...T08:00:00.250+01:00";
 * a space or lower-case 't'/'z' accepted, 5.6 NOTE) or a time relative to
 * now: "-90s", "-30m", "-2h", "-7d" (the sign is required). */
#ifndef EVM_CTL_TIME_H
#define EVM_CTL_TIME_H

#include <stdint.h>

/* Milliseconds since the epoch into *ms_r; now_ms is "now" for relative
 * times. 0, or -1 with *error_r. */
int ctl_time_parse(const char *s, int64_t now_ms, int64_t *ms_r, const char **error_r);

#endif
