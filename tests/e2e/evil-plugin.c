/* The code an unprivileged user wants run as root: its constructor runs as
 * soon as the file is mapped, before any descriptor check, and leaves the
 * file named by VXC_RACE_MARKER as proof. loader-race.sh asserts it never
 * appears. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((constructor)) static void evil(void)
{
	const char *marker = getenv("VXC_RACE_MARKER");
	int fd = marker ? open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644) : -1;

	if (fd >= 0)
		close(fd);
}
