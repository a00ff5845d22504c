/* `vxcloud status` asks a running agent (vxcloudd) first: its control
 * socket, <state_dir>/agent.sock, answers with the agent's own state. */
#ifndef VXC_AGENT_CLIENT_H
#define VXC_AGENT_CLIENT_H

#include <stdio.h>

#define VXC_AGENT_EXIT_DIFFERS 6 /* the status's exit code when out of sync */

/* Copies the agent's report to out and returns the exit code it gives;
 * -ENOENT when no agent answers on the socket (the caller falls back to
 * its own dry run), another -errno when one answered badly. */
int vxc_agent_status(const char *state_dir, int json, FILE *out);

/* 1 when an agent answers on the socket: it would undo a destroy. */
int vxc_agent_running(const char *state_dir);

#endif
