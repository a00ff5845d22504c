#!/bin/bash
# The compute/docker conformance test (compute-docker.sh) against podman's
# Docker-compatible API service (`podman system service`, Debian package
# podman) instead of dockerd. Skipped when podman is not installed.
export VXD_ENGINE=podman
exec bash "${VXC_TOP_SRCDIR:?}/tests/drivers/compute-docker.sh"
