/*
 * route.h: the route table (route.c) and the request context handlers get.
 * Routing answers 404/405/413/415 itself and checks CSRF origin rules before
 * a handler runs; handlers see decoded fields, never raw bytes.
 */
#ifndef PCS_ROUTE_H
#define PCS_ROUTE_H

#include <stdint.h>

#include "app.h"
#include "arena.h"
#include "http.h"
#include "resp.h"

struct ctx {
	const struct app	*app;
	struct arena		*arena;
	struct http_req		*req;
	struct resp		*resp;
	struct str		 params[2];	/* {form}, {page} or {code} */
	const struct form	*form;		/* when the route has {form} */
	int64_t			 today;
};

/* The worker's request entry point (an fcgi_handler). */
void	route_dispatch(void *app, struct arena *a, struct http_req *req, struct resp *resp);

/* Renders an error page with status (handlers' common exit). */
void	ctx_error(struct ctx *c, int status, const char *title, const char *message);

/* handlers: h_ops.c */
void	h_healthz(struct ctx *c);
void	h_readyz(struct ctx *c);
/* handlers: h_respond.c */
void	h_index(struct ctx *c);
void	h_form_start_page(struct ctx *c);
void	h_form_start(struct ctx *c);
void	h_form_page(struct ctx *c);
void	h_form_check(struct ctx *c);
void	h_form_submit(struct ctx *c);
void	h_form_done(struct ctx *c);
void	h_form_resume(struct ctx *c);
void	h_withdraw(struct ctx *c);
void	h_invite_link(struct ctx *c);
void	h_privacy(struct ctx *c);
void	h_accessibility(struct ctx *c);
/* handlers: h_api.c (http-api.md: Researcher API) */
void	h_api_forms(struct ctx *c);
void	h_api_codebook(struct ctx *c);
void	h_api_counts(struct ctx *c);
void	h_api_coverage(struct ctx *c);
void	h_api_responses(struct ctx *c);
/* handlers: h_research.c (/research pages) */
void	h_research_home(struct ctx *c);
void	h_research_login(struct ctx *c);
void	h_research_logout(struct ctx *c);
void	h_research_coverage(struct ctx *c);
void	h_research_preview(struct ctx *c);
void	h_research_preview_page(struct ctx *c);

#endif
