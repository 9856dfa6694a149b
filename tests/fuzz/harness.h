/*
 * harness.h: what every libFuzzer harness of tests/fuzz/ shares.  A harness
 * is one file fuzz_NAME.c defining LLVMFuzzerTestOneInput (and optionally
 * LLVMFuzzerInitialize); fuzz.mk links it with libFuzzer for `make fuzz`
 * and with standalone.c for the replay in `make test`.
 *
 * FUZZ_CHECK() states a property of the parser under test.  A broken
 * property aborts, which libFuzzer saves as a crash input and the replay
 * counts as a failure, exactly like a sanitizer report.
 */
#ifndef PCS_FUZZ_HARNESS_H
#define PCS_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int	LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond, ...) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: property failed: %s: ",		\
		    __FILE__, __LINE__, #cond);				\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		abort();						\
	}								\
} while (0)

#endif
