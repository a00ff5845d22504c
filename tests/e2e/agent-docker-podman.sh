#!/bin/bash
# vxcloudd following the engine's events (agent-docker.sh) against podman's
# Docker-compatible API service instead of dockerd. Skipped without podman.
export VXD_ENGINE=podman
exec bash "${VXC_TOP_SRCDIR:?}/tests/e2e/agent-docker.sh"
