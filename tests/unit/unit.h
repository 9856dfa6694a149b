/* unit.h: what every cmocka test needs before <cmocka.h> (toolchain.md). */
#ifndef PCS_UNIT_H
#define PCS_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#endif
