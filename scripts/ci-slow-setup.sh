#!/usr/bin/env bash
# Installs what the slow stage needs beyond the default suite: the cluster extras, Chromium, Slurm and munge.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pip install -q -e '.[dev,ray,slurm]'
if ! command -v chromium >/dev/null || ! command -v slurmctld >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium slurm-wlm munge >/dev/null
fi
