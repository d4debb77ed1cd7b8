#!/bin/bash
# Shared body of the cluster job scripts: run one profile with lib.run from the repository root and copy
# its run bundle to bundles/<profile>/. Usage: bash jobs/run_profile.sh PROFILE JOB_ID
set -euo pipefail
PROFILE="${1:?usage: jobs/run_profile.sh PROFILE JOB_ID}"
VENV="${VENV:-.venv}"
export MPLBACKEND=Agg
echo "profile $PROFILE on $(hostname), $(nproc) cores, job ${2:-local}"
status=0
"$VENV/bin/python" -m lib.run --profile "$PROFILE" || status=$?
latest=$(ls -1d "saved/runs/$PROFILE"/*/ 2>/dev/null | sort | tail -n 1)
if [ -n "$latest" ]; then
  mkdir -p "bundles/$PROFILE"
  cp -r "$latest" "bundles/$PROFILE/"
  echo "bundle copied to bundles/$PROFILE/$(basename "$latest")"
fi
exit "$status"
