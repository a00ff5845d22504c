/* The attacker of loader-race.sh: exchanges two paths with
 * renameat2(RENAME_EXCHANGE) as fast as it can until SIGTERM, then prints
 * how many exchanges it made (so the test knows the race really ran). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	unsigned long swaps = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: swap-loop PATH_A PATH_B\n");
		return 2;
	}
	signal(SIGTERM, on_term);
	while (!stop) {
		if (renameat2(AT_FDCWD, argv[1], AT_FDCWD, argv[2], RENAME_EXCHANGE) < 0) {
			fprintf(stderr, "swap-loop: exchange %s and %s: %s\n", argv[1], argv[2],
				strerror(errno));
			return 1;
		}
		swaps++;
	}
	printf("%lu\n", swaps);
	return 0;
}
