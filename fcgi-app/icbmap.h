/*
 * icbmap.h: the boundary map of England's 42 ICBs for the coverage page
 * (http-api.md: /research/coverage), compiled in from
 * sql/reference/icb-map.json (a copy of ../shared/reference/icb-map.json;
 * ONS Integrated Care Boards (April 2023) Boundaries EN BSC, Open Government
 * Licence v3.0) by fcgi-app/gen-icbmap.py into icbmap.c.  Paths are SVG path
 * data ("M x,y L x,y ... Z") in the viewBox; ICBs join icbs.csv by ONS code,
 * regions by ODS code.  Immutable.
 */
#ifndef PCS_ICBMAP_H
#define PCS_ICBMAP_H

#include <stddef.h>

struct icbmap_area {
	const char	*code;		/* icbs: ONS code (E54...); regions: ODS code (Y56...) */
	const char	*name;
	const char	*path;		/* SVG path data, ASCII */
};

extern const char		 icbmap_viewbox[];	/* "0 0 600 685" */
extern const char		 icbmap_attribution[];	/* to show under the map */
extern const struct icbmap_area	 icbmap_icbs[];
extern const size_t		 icbmap_nicbs;
extern const struct icbmap_area	 icbmap_regions[];
extern const size_t		 icbmap_nregions;

#endif
