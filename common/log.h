/* log - one line per event on stderr.
 *
 * Three severities for failures (see STYLE.md): log_warn/log_error for an
 * expected failure that is handled; log_fatal for a broken environment or
 * configuration (clean exit 1 with the message); log_panic for a broken
 * invariant (abort, so a core or sanitizer report shows where).
 * Never pass a password or credential to these. */
#ifndef EVM_LOG_H
#define EVM_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level level);
/* Sets the program name shown in each line (default "evmail"). */
void log_set_ident(const char *ident);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void log_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
