/* log - see log.h */
#include "common/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static enum log_level min_level = LOG_INFO;
static const char *log_ident = "evmail";
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void log_set_level(enum log_level level)
{
	min_level = level;
}

void log_set_ident(const char *ident)
{
	log_ident = ident;
}

static void log_line(const char *level, const char *fmt, va_list ap)
{
	struct timespec ts;
	struct tm tm;
	char when[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "%s.%03ldZ %s %s: ", when, ts.tv_nsec / 1000000L, log_ident, level);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	fflush(stderr);
	pthread_mutex_unlock(&log_lock);
}

#define LOG_FN(name, lvl, label) \
	void name(const char *fmt, ...) \
	{ \
		va_list ap; \
		if (lvl < min_level) \
			return; \
		va_start(ap, fmt); \
		log_line(label, fmt, ap); \
		va_end(ap); \
	}

LOG_FN(log_debug, LOG_DEBUG, "debug")
LOG_FN(log_info, LOG_INFO, "info")
LOG_FN(log_warn, LOG_WARN, "warning")
LOG_FN(log_error, LOG_ERROR, "error")

void log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line("fatal", fmt, ap);
	va_end(ap);
	exit(1);
}

void log_panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line("panic", fmt, ap);
	va_end(ap);
	abort();
}
