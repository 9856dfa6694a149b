/*
 * conf.c: pcsurvey.conf.  Trusts the operator's file only as far as its
 * syntax: every value is checked, unknown keys are refused (cli.md).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

enum conf_type { CT_STR, CT_INT, CT_SIZE, CT_LEVEL };

static const struct conf_key {
	const char	*name;
	enum conf_type	 type;
	size_t		 off;
	size_t		 size;		/* CT_STR: buffer size */
	long		 min, max;
} keys[] = {
	{ "database", CT_STR, offsetof(struct conf, database), PCS_CONF_LINE_MAX, 0, 0 },
	{ "forms_dir", CT_STR, offsetof(struct conf, forms_dir), PCS_PATH_MAX, 0, 0 },
	{ "keys_dir", CT_STR, offsetof(struct conf, keys_dir), PCS_PATH_MAX, 0, 0 },
	{ "base_url", CT_STR, offsetof(struct conf, base_url), PCS_PATH_MAX, 0, 0 },
	{ "socket", CT_STR, offsetof(struct conf, socket), PCS_PATH_MAX, 0, 0 },
	{ "workers", CT_INT, offsetof(struct conf, workers), 0, 1, PCS_WORKERS_MAX },
	{ "suppress_max", CT_INT, offsetof(struct conf, suppress_max), 0, 0, 1000 },
	{ "round_to", CT_INT, offsetof(struct conf, round_to), 0, 1, 1000 },
	{ "counts_lag_days", CT_INT, offsetof(struct conf, counts_lag_days), 0, 0, 365 },
	{ "draft_days", CT_INT, offsetof(struct conf, draft_days), 0, 1, 3650 },
	{ "max_body", CT_SIZE, offsetof(struct conf, max_body), 0, 1024, 16 * 1024 * 1024 },
	{ "log_level", CT_LEVEL, offsetof(struct conf, log_level), 0, 0, 0 },
};

static const char *const level_names[LOG__MAX] = {
	[LOG_DEBUG] = "debug", [LOG_INFO] = "info", [LOG_WARN] = "warn",
	[LOG_ERROR] = "error",
};

static void
conf_defaults(struct conf *c)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	memset(c, 0, sizeof(*c));
	snprintf(c->forms_dir, sizeof(c->forms_dir), "forms");
	snprintf(c->base_url, sizeof(c->base_url), "http://127.0.0.1:8080");
	snprintf(c->socket, sizeof(c->socket), "var/run/pcsurvey.sock");
	c->workers = n > 0 && n <= PCS_WORKERS_MAX ? (int)n : 2;
	c->suppress_max = PCS_SUPPRESS_MAX_DEFAULT;
	c->round_to = PCS_ROUND_TO_DEFAULT;
	c->counts_lag_days = PCS_COUNTS_LAG_DEFAULT;
	c->draft_days = PCS_DRAFT_DAYS_DEFAULT;
	c->max_body = PCS_MAX_BODY_DEFAULT;
	c->log_level = LOG_INFO;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int
conf_set(struct conf *c, const struct conf_key *k, const char *v)
{
	char *end;
	long n;

	switch (k->type) {
	case CT_STR:
		if (strlen(v) >= k->size)
			return -1;
		memcpy((char *)c + k->off, v, strlen(v) + 1);
		return 0;
	case CT_INT:
	case CT_SIZE:
		errno = 0;
		n = strtol(v, &end, 10);
		if (errno || end == v || *end || n < k->min || n > k->max)
			return -1;
		if (k->type == CT_INT)
			*(int *)((char *)c + k->off) = (int)n;
		else
			*(size_t *)((char *)c + k->off) = (size_t)n;
		return 0;
	case CT_LEVEL:
		for (int i = 0; i < LOG__MAX; i++)
			if (strcmp(v, level_names[i]) == 0) {
				*(enum log_level *)((char *)c + k->off) = i;
				return 0;
			}
		return -1;
	}
	return -1;
}

enum pcs_err
conf_load(struct conf *c, const char *path, char *msg, size_t msglen)
{
	char line[PCS_CONF_LINE_MAX + 2];
	FILE *f = NULL;
	unsigned lineno = 0;
	enum pcs_err err = PCS_OK;

	conf_defaults(c);
	if (path == NULL)
		path = getenv("PCSURVEY_CONFIG");
	if (path == NULL)
		path = "var/pcsurvey.conf";
	snprintf(c->path, sizeof(c->path), "%s", path);
	if ((f = fopen(path, "r")) == NULL) {
		snprintf(msg, msglen, "%s: cannot read the configuration (%s); "
		    "pass --config FILE or set PCSURVEY_CONFIG", path, strerror(errno));
		return PCS_EIO;
	}
	while (fgets(line, sizeof(line), f)) {
		char *s, *eq, *key, *val;
		size_t i;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(msg, msglen, "%s:%u: line too long", path, lineno);
			err = PCS_EINPUT;
			goto out;
		}
		s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		if ((eq = strchr(s, '=')) == NULL) {
			snprintf(msg, msglen, "%s:%u: expected `key = value`", path, lineno);
			err = PCS_EINPUT;
			goto out;
		}
		*eq = '\0';
		key = trim(s);
		val = trim(eq + 1);
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strcmp(key, keys[i].name) == 0)
				break;
		if (i == sizeof(keys) / sizeof(keys[0])) {
			snprintf(msg, msglen, "%s:%u: unknown key \"%.64s\" (see cli.md: "
			    "Configuration)", path, lineno, key);
			err = PCS_EINPUT;
			goto out;
		}
		if (conf_set(c, &keys[i], val) != 0) {
			snprintf(msg, msglen, "%s:%u: bad value for %s", path, lineno, key);
			err = PCS_EINPUT;
			goto out;
		}
	}
	if (c->database[0] == '\0' || c->keys_dir[0] == '\0') {
		snprintf(msg, msglen, "%s: `database` and `keys_dir` are required", path);
		err = PCS_EINPUT;
		goto out;
	}
	c->https = strncmp(c->base_url, "https:", 6) == 0;
out:
	fclose(f);
	return err;
}
