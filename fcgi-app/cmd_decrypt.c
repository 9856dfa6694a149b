/*
 * cmd_decrypt.c: `pcsurvey decrypt --secret-key FILE [IN] [--out FILE]`
 * (cli.md, http-api.md: responses.csv, privacy.md: sealed).  Runs offline
 * with no database: reads an export one record at a time (memory bounded by
 * the longest record) and writes it back with every sealed cell replaced by
 * its text.  Trusts nothing in the input: a cell is sealed only if it
 * decodes as standard base64 to more than CRYPTO_SEAL_OVERHEAD bytes, and
 * then it must open under the key or the command stops (never writing
 * anything it could not authenticate).
 *
 * A damaged sealed cell must not pass through unnoticed either.  In a real
 * export no clear cell is DEC_SEALED_MIN characters long and made only of
 * base64 characters (option values are at most 64 characters and hold '_',
 * choices are joined with ';', pseudonyms are 64 hex digits), so such a cell
 * that does not decode is an error; and a non-empty cell that is not sealed
 * in a column where another row's cell is sealed is an error too (a column
 * of a sealed question holds only sealed cells and empty ones).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "crypto.h"
#include "csv.h"
#include "limits.h"

static const char usage[] =
    "usage: pcsurvey decrypt --secret-key FILE [IN] [--out FILE]";

/* Every cell rewritten may grow by quoting and the formula prefix. */
#define DEC_OUT_MAX	(2 * (size_t)CSV_MAX_RECORD + 4 * (size_t)CSV_MAX_CELLS + 2)
#define DEC_NAME_SHOW	80	/* bytes of a column name in a message */
/* The shortest sealed cell: base64 of a box holding one byte. */
#define DEC_SEALED_MIN	crypto_base64_len(CRYPTO_SEAL_OVERHEAD + 1)

struct dec {
	const char		*in_name;	/* for messages */
	struct csv_reader	*rd;
	struct csv_row		*row;
	struct buf		 out;		/* one output record */
	struct buf		 hdr;		/* header cells, back to back */
	size_t			*hdr_end;	/* end of cell i in hdr */
	size_t			 hdr_n;
	uint8_t			*bin;		/* decoded box */
	size_t			 bin_cap;
	uint8_t			*plain;		/* opened text; wiped */
	size_t			 plain_cap;
	uint8_t			 pub[CRYPTO_KEY_BYTES];
	uint8_t			 sec[CRYPTO_KEY_BYTES];
	size_t			 looked;	/* cells that looked sealed */
	size_t			 opened;
	size_t			*sealed_row;	/* per column: first sealed row */
	size_t			*plain_row;	/* per column: first unsealed */
};

static int
dec_usage(const char *why)
{
	fprintf(stderr, "pcsurvey decrypt: %s; %s\n", why, usage);
	return 2;
}

/*
 * Makes *p hold at least need bytes.  The old block is wiped before it is
 * freed, since it may have held opened text.
 */
static bool
grow_wiped(uint8_t **p, size_t *cap, size_t need)
{
	uint8_t *np;

	if (need <= *cap)
		return true;
	if ((np = malloc(need)) == NULL)
		return false;
	if (*p != NULL) {
		crypto_wipe(*p, *cap);
		free(*p);
	}
	*p = np;
	*cap = need;
	return true;
}

/* Copies a column name for a message, without control bytes. */
static void
column_name(const struct dec *d, size_t col, char *out, size_t outlen)
{
	size_t b, e, n = 0;

	if (col >= d->hdr_n) {
		snprintf(out, outlen, "number %zu", col + 1);
		return;
	}
	b = col == 0 ? 0 : d->hdr_end[col - 1];
	e = d->hdr_end[col];
	for (size_t i = b; i < e && n + 1 < outlen && n < DEC_NAME_SHOW; i++) {
		unsigned char c = (unsigned char)d->hdr.p[i];

		out[n++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	out[n] = '\0';
}

/* Keeps the header's cell texts for messages naming a column. */
static bool
keep_header(struct dec *d)
{
	d->hdr_n = 0;
	for (size_t i = 0; i < d->row->n; i++) {
		buf_addstr(&d->hdr, d->row->cells[i]);
		d->hdr_end[i] = d->hdr.len;
		d->hdr_n = i + 1;
	}
	return d->hdr.err == PCS_OK;
}

static bool
is_base64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
}

/*
 * 1 if cell is a sealed box (left decoded in d->bin, *boxlen bytes), 0 if
 * not, -1 out of memory, -2 if it is damaged: at least DEC_SEALED_MIN base64
 * characters that do not decode to a box.  Sealed means standard base64 of
 * at least CRYPTO_SEAL_OVERHEAD + 1 bytes (an empty answer is never
 * sealed).  Base64 may start with '+', which the exporter's formula rule
 * (csv.h) prefixes with "'": that prefix is not part of the box.
 */
static int
looks_sealed(struct dec *d, struct str cell, size_t *boxlen)
{
	size_t need;
	long n;

	if (cell.len > 1 && cell.p[0] == '\'' && cell.p[1] == '+') {
		cell.p++;
		cell.len--;
	}
	if (cell.len < DEC_SEALED_MIN)
		return 0;
	for (size_t i = 0; i < cell.len; i++)
		if (!is_base64_char(cell.p[i]))
			return 0;
	if (cell.len % 4 != 0)
		return -2;
	need = cell.len / 4 * 3;
	if (!grow_wiped(&d->bin, &d->bin_cap, need))
		return -1;
	if ((n = crypto_base64_decode(cell, d->bin, d->bin_cap)) < 0 ||
	    (size_t)n < CRYPTO_SEAL_OVERHEAD + 1)
		return -2;
	*boxlen = (size_t)n;
	return 1;
}

/* An unsealed cell in a column of sealed ones: exit 1. */
static int
dec_mixed(const struct dec *d, size_t col, size_t plain_row, size_t sealed_row)
{
	char name[DEC_NAME_SHOW + 1];

	column_name(d, col, name, sizeof(name));
	fprintf(stderr, "pcsurvey decrypt: row %zu, column %s is not a sealed "
	    "answer but row %zu of that column is: the file was changed; "
	    "export it again\n", plain_row, name, sealed_row);
	return 1;
}

/*
 * Rewrites the records of d->rd into fp.  Returns 0 or 1 (the exit code),
 * with a message on stderr.  Messages count records from the header as
 * row 1, as a spreadsheet shows them.
 */
static int
dec_run(struct dec *d, FILE *fp)
{
	char name[DEC_NAME_SHOW + 1];
	size_t recno = 0, boxlen = 0;
	int rc;

	while ((rc = csv_read_row(d->rd, d->row)) == 1) {
		recno++;
		buf_reset(&d->out);
		if (recno == 1 && !keep_header(d)) {
			fprintf(stderr, "pcsurvey decrypt: %s: header row too "
			    "large\n", d->in_name);
			return 1;
		}
		for (size_t i = 0; i < d->row->n; i++) {
			struct str cell = d->row->cells[i];
			int s = recno == 1 ? 0 : looks_sealed(d, cell, &boxlen);
			size_t plen;

			if (i > 0)
				csv_write_sep(&d->out);
			if (s == -1) {
				fprintf(stderr, "pcsurvey decrypt: out of "
				    "memory\n");
				return 1;
			}
			if (s == -2) {
				column_name(d, i, name, sizeof(name));
				fprintf(stderr, "pcsurvey decrypt: row %zu, "
				    "column %s looks like a sealed answer but "
				    "is not one: the file was changed or cut "
				    "short; export it again\n", recno, name);
				return 1;
			}
			/* i < CSV_MAX_CELLS: the reader's own limit */
			if (s == 0 && cell.len > 0 && recno > 1) {
				if (d->sealed_row[i] != 0)
					return dec_mixed(d, i, recno,
					    d->sealed_row[i]);
				if (d->plain_row[i] == 0)
					d->plain_row[i] = recno;
			}
			if (s == 0) {
				/* Not ours: as it was (its prefix included). */
				csv_write_raw(&d->out, cell);
				continue;
			}
			if (d->plain_row[i] != 0)
				return dec_mixed(d, i, d->plain_row[i], recno);
			if (d->sealed_row[i] == 0)
				d->sealed_row[i] = recno;
			d->looked++;
			plen = boxlen - CRYPTO_SEAL_OVERHEAD;
			if (!grow_wiped(&d->plain, &d->plain_cap, plen)) {
				fprintf(stderr, "pcsurvey decrypt: out of "
				    "memory\n");
				return 1;
			}
			if (!crypto_unseal(d->pub, d->sec, d->bin, boxlen,
			    d->plain)) {
				column_name(d, i, name, sizeof(name));
				fprintf(stderr, "pcsurvey decrypt: the secret "
				    "key does not open these answers: wrong "
				    "key, or the file was changed (row %zu, "
				    "column %s)\n", recno, name);
				return 1;
			}
			d->opened++;
			/* http-api.md: the text keeps the formula prefix rule. */
			csv_write_cell(&d->out, (struct str){
			    (const char *)d->plain, plen });
			crypto_wipe(d->plain, plen);
		}
		csv_write_eol(&d->out);
		if (d->out.err != PCS_OK) {
			fprintf(stderr, "pcsurvey decrypt: %s: row %zu: %s\n",
			    d->in_name, recno, pcs_strerror(d->out.err));
			return 1;
		}
		if (fwrite(d->out.p, 1, d->out.len, fp) != d->out.len) {
			fprintf(stderr, "pcsurvey decrypt: write failed: %s\n",
			    strerror(errno));
			return 1;
		}
	}
	if (rc < 0) {
		fprintf(stderr, "pcsurvey decrypt: %s: line %zu: malformed CSV "
		    "or a record over a limit: give the file exactly as "
		    "exported\n", d->in_name, d->rd->line);
		return 1;
	}
	if (recno == 0) {
		fprintf(stderr, "pcsurvey decrypt: %s: empty: not an export\n",
		    d->in_name);
		return 1;
	}
	/* Cannot happen (a failure stops at once) but is the contract. */
	if (d->looked > 0 && d->opened == 0) {
		fprintf(stderr, "pcsurvey decrypt: the secret key does not "
		    "open these answers: wrong key, or the file was changed\n");
		return 1;
	}
	return 0;
}

int
cmd_decrypt(int argc, char **argv)
{
	const char *keyfile = NULL, *in_path = NULL, *out_path = NULL;
	char msg[PCS_PATH_MAX + 256], *tmp = NULL;
	struct dec d = { 0 };
	FILE *in = NULL, *fp = NULL;
	bool opts = true, reader = false;
	int i, ret = 1, fd;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (opts && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
			printf("%s\n\n"
			    "Reads an export (responses.csv or pcsurvey export) "
			    "from IN or stdin and\n"
			    "writes it to --out FILE (mode 0600) or stdout with "
			    "every sealed answer\n"
			    "replaced by its text.  Needs only research.sec (mode "
			    "0600), no database.\n"
			    "Stops with exit 1 if a sealed answer does not open "
			    "under the key.\n", usage);
			return 0;
		}
		if (opts && strcmp(a, "--") == 0)
			opts = false;
		else if (opts && strcmp(a, "--secret-key") == 0) {
			if (i + 1 >= argc || keyfile != NULL)
				return dec_usage("--secret-key needs one FILE");
			keyfile = argv[++i];
		} else if (opts && strncmp(a, "--secret-key=", 13) == 0) {
			if (keyfile != NULL)
				return dec_usage("--secret-key given twice");
			keyfile = a + 13;
		} else if (opts && strcmp(a, "--out") == 0) {
			if (i + 1 >= argc || out_path != NULL)
				return dec_usage("--out needs one FILE");
			out_path = argv[++i];
		} else if (opts && strncmp(a, "--out=", 6) == 0) {
			if (out_path != NULL)
				return dec_usage("--out given twice");
			out_path = a + 6;
		} else if (opts && a[0] == '-' && a[1] != '\0')
			return dec_usage("unknown option");
		else if (in_path == NULL)
			in_path = a;
		else
			return dec_usage("more than one input file");
	}
	if (keyfile == NULL || keyfile[0] == '\0')
		return dec_usage("--secret-key FILE is required");
	if (out_path != NULL && (out_path[0] == '\0' ||
	    strlen(out_path) > PCS_PATH_MAX))
		return dec_usage("--out FILE is empty or too long");
	if (in_path != NULL && strcmp(in_path, "-") == 0)
		in_path = NULL;

	if (!crypto_init()) {
		fprintf(stderr, "pcsurvey decrypt: libsodium failed to start\n");
		return 1;
	}
	if (crypto_read_secret_key(keyfile, d.sec, msg, sizeof(msg)) != PCS_OK) {
		fprintf(stderr, "pcsurvey decrypt: %s\n", msg);
		goto out;
	}
	crypto_pub_from_sec(d.sec, d.pub);

	d.in_name = in_path != NULL ? in_path : "stdin";
	if (in_path == NULL)
		in = stdin;
	else if ((in = fopen(in_path, "rb")) == NULL) {
		fprintf(stderr, "pcsurvey decrypt: %s: cannot open: %s\n",
		    in_path, strerror(errno));
		goto out;
	}
	d.rd = malloc(sizeof(*d.rd));
	d.row = malloc(sizeof(*d.row));
	d.hdr_end = calloc(CSV_MAX_CELLS, sizeof(*d.hdr_end));
	d.sealed_row = calloc(CSV_MAX_CELLS, sizeof(*d.sealed_row));
	d.plain_row = calloc(CSV_MAX_CELLS, sizeof(*d.plain_row));
	if (d.rd == NULL || d.row == NULL || d.hdr_end == NULL ||
	    d.sealed_row == NULL || d.plain_row == NULL) {
		fprintf(stderr, "pcsurvey decrypt: out of memory\n");
		goto out;
	}
	csv_reader_init_file(d.rd, in);
	reader = true;
	buf_init(&d.out, DEC_OUT_MAX);
	buf_init(&d.hdr, CSV_MAX_RECORD);

	if (out_path == NULL)
		fp = stdout;
	else {
		/* Written beside FILE, renamed into place only when complete. */
		size_t n = strlen(out_path) + sizeof(".XXXXXX");

		if ((tmp = malloc(n)) == NULL) {
			fprintf(stderr, "pcsurvey decrypt: out of memory\n");
			goto out;
		}
		snprintf(tmp, n, "%s.XXXXXX", out_path);
		if ((fd = mkstemp(tmp)) == -1) {
			fprintf(stderr, "pcsurvey decrypt: %s: cannot create: "
			    "%s\n", tmp, strerror(errno));
			free(tmp);
			tmp = NULL;
			goto out;
		}
		if ((fp = fdopen(fd, "wb")) == NULL) {
			fprintf(stderr, "pcsurvey decrypt: %s: %s\n", tmp,
			    strerror(errno));
			close(fd);
			goto out;
		}
	}

	if ((ret = dec_run(&d, fp)) != 0)
		goto out;
	ret = 1;
	if (fflush(fp) != 0 || ferror(fp) ||
	    (tmp != NULL && fsync(fileno(fp)) != 0)) {
		fprintf(stderr, "pcsurvey decrypt: write failed: %s\n",
		    strerror(errno));
		goto out;
	}
	if (tmp != NULL) {
		if (fclose(fp) != 0) {
			fp = NULL;
			fprintf(stderr, "pcsurvey decrypt: %s: %s\n", tmp,
			    strerror(errno));
			goto out;
		}
		fp = NULL;
		if (rename(tmp, out_path) != 0) {
			fprintf(stderr, "pcsurvey decrypt: %s: cannot rename "
			    "to %s: %s\n", tmp, out_path, strerror(errno));
			goto out;
		}
		free(tmp);
		tmp = NULL;
	}
	ret = 0;
out:
	if (tmp != NULL) {
		if (fp != NULL)
			fclose(fp);
		unlink(tmp);	/* never leave a partial output behind */
		free(tmp);
	}
	if (reader)
		csv_reader_release(d.rd);
	if (in != NULL && in != stdin)
		fclose(in);
	if (d.out.p != NULL)
		crypto_wipe(d.out.p, d.out.cap);
	buf_release(&d.out);
	buf_release(&d.hdr);
	if (d.plain != NULL)
		crypto_wipe(d.plain, d.plain_cap);
	free(d.plain);
	free(d.bin);
	free(d.hdr_end);
	free(d.sealed_row);
	free(d.plain_row);
	free(d.row);
	free(d.rd);
	crypto_wipe(d.sec, sizeof(d.sec));
	return ret;
}
