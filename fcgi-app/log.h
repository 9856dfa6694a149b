/*
 * log.h: one line per event on stderr, `ts level event key=value...`
 * (cli.md).  Never pass an answer, a code, a token, a cookie or a query
 * value: values are written as given, except that control bytes become
 * \xNN so one event stays one line.
 */
#ifndef PCS_LOG_H
#define PCS_LOG_H

#include "conf.h"

void	log_set_level(enum log_level l);
/* kv: "key=value key=value" made by the caller from safe values only. */
void	log_event(enum log_level l, const char *event, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
