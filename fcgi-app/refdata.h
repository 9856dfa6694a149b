/* refdata.h: the reference CSVs compiled in by gen-refdata.sh (ref.c reads them). */
#ifndef PCS_REFDATA_H
#define PCS_REFDATA_H

#include <stddef.h>

struct refdata_file {
	const char	*name;	/* file name without .csv: "icbs" */
	const char	*data;	/* NUL-terminated CSV bytes */
	size_t		 len;
};

/* Terminated by an entry whose name is NULL. */
extern const struct refdata_file refdata_files[];
/* sql/migrations/NNNN_*.sql in order, name without ".sql". */
extern const struct refdata_file migration_files[];

#endif
