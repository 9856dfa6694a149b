/*
 * app.h: what a worker holds for its whole life and hands to every request:
 * the configuration, the forms (immutable, loaded before fork) and its one
 * database connection.
 */
#ifndef PCS_APP_H
#define PCS_APP_H

#include "conf.h"
#include "form.h"
#include "store.h"

struct app {
	const struct conf	*conf;
	const struct formset	*forms;
	struct store		*store;
};

#endif
