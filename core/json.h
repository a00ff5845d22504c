/* Just enough JSON output for --json: strings escaped, nothing else. */
#ifndef VXC_JSON_H
#define VXC_JSON_H

#include <stdio.h>

void vxc_json_str(FILE *f, const char *s);

#endif
