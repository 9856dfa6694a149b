/*
 * fcgi.h: the FastCGI edge (fcgi.c is the only includer of fcgiapp.h).
 * Accepts requests on a listening socket, reads the CGI params we use and at
 * most max_body bytes of stdin into the request arena, hands a struct
 * http_req to the handler and writes the struct resp back.
 */
#ifndef PCS_FCGI_H
#define PCS_FCGI_H

#include <signal.h>
#include <stddef.h>

#include "arena.h"
#include "http.h"
#include "resp.h"

typedef void (*fcgi_handler)(void *arg, struct arena *a, struct http_req *req,
    struct resp *resp);

/* Calls FCGX_Init(); once per process before fcgi_worker_run. */
int	fcgi_init(void);
/*
 * Serves requests from listen_fd until *stop becomes non-zero (checked
 * between requests; a signal interrupts a blocked accept).
 */
void	fcgi_worker_run(int listen_fd, size_t max_body, volatile sig_atomic_t *stop,
	    fcgi_handler fn, void *arg);

#endif
