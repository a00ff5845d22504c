#!/bin/bash
# The seed end to end with Docker containers (e2e-docker.sh) against podman's
# Docker-compatible API service instead of dockerd. Skipped without podman.
export VXD_ENGINE=podman
exec bash "${VXC_TOP_SRCDIR:?}/tests/e2e/e2e-docker.sh"
