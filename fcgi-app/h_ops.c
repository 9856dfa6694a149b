/* h_ops.c: /healthz and /readyz (http-api.md: Operations). */
#include <stdio.h>

#include "route.h"

void
h_healthz(struct ctx *c)
{
	c->resp->content_type = "text/plain; charset=utf-8";
	buf_adds(&c->resp->body, "ok\n");
}

void
h_readyz(struct ctx *c)
{
	int have = 0, want = store_expected_version();
	enum pcs_err err = store_schema_version(c->app->store, &have);

	c->resp->content_type = "application/json; charset=utf-8";
	c->resp->no_store = true;
	if (err != PCS_OK) {
		c->resp->status = 503;
		buf_printf(&c->resp->body, "{\"status\": \"unavailable\", \"reason\": "
		    "\"database unavailable\"}\n");
	} else if (have != want) {
		c->resp->status = 503;
		buf_printf(&c->resp->body, "{\"status\": \"unavailable\", \"reason\": "
		    "\"schema at version %d, this binary expects %d: run pcsurvey migrate\"}\n",
		    have, want);
	} else
		buf_printf(&c->resp->body, "{\"status\": \"ready\", \"schema\": %d}\n", have);
}
