#include "config.h"

#include <stdio.h>

int main(void)
{
	puts("vxcloud " PACKAGE_VERSION);
	return 0;
}
