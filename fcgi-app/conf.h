/*
 * conf.h: pcsurvey.conf (cli.md: Configuration).  `key = value` lines, `#`
 * comments; an unknown key is an error, never ignored.
 */
#ifndef PCS_CONF_H
#define PCS_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "limits.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG__MAX };

struct conf {
	char		 path[PCS_PATH_MAX];
	char		 database[PCS_CONF_LINE_MAX];
	char		 forms_dir[PCS_PATH_MAX];
	char		 keys_dir[PCS_PATH_MAX];
	char		 base_url[PCS_PATH_MAX];
	char		 socket[PCS_PATH_MAX];
	int		 workers;
	int		 suppress_max;
	int		 round_to;
	int		 counts_lag_days;
	int		 draft_days;
	size_t		 max_body;
	enum log_level	 log_level;
	bool		 https;		/* base_url starts with https: */
};

/*
 * Reads the file at path (NULL: $PCSURVEY_CONFIG, else "var/pcsurvey.conf")
 * into c.  On failure writes "path:line: problem" to msg.
 */
enum pcs_err	 conf_load(struct conf *c, const char *path, char *msg, size_t msglen) PCS_MUST;

#endif
