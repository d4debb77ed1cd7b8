#!/bin/bash
# Run one profile on a Slurm compute node and copy its run bundle back to the submit directory:
#   sbatch --export=ALL,PROFILE=cpu jobs/slurm_profile.sh          (from the repository root)
#   PROFILE=cuda sbatch --gres=gpu:1 jobs/slurm_profile.sh
# The bundle lands in saved/runs/<profile>/<timestamp>/ of the node's checkout and is copied to
# $SLURM_SUBMIT_DIR/bundles/<profile>/.
#SBATCH --job-name=edge-vision-profile
#SBATCH --nodes=1
#SBATCH --cpus-per-task=2
#SBATCH --time=04:00:00
#SBATCH --output=edge-vision-%j.log
set -euo pipefail
PROFILE="${PROFILE:?set the profile: sbatch --export=ALL,PROFILE=cpu jobs/slurm_profile.sh}"
cd "${SLURM_SUBMIT_DIR:-$(dirname "$0")/..}"
VENV="${VENV:-.venv}"
export MPLBACKEND=Agg
echo "profile $PROFILE on $(hostname), $(nproc) cores, job ${SLURM_JOB_ID:-local}"
status=0
"$VENV/bin/python" -m lib.run --profile "$PROFILE" || status=$?
latest=$(ls -1d "saved/runs/$PROFILE"/*/ 2>/dev/null | sort | tail -n 1)
if [ -n "$latest" ]; then
  mkdir -p "bundles/$PROFILE"
  cp -r "$latest" "bundles/$PROFILE/"
  echo "bundle copied to bundles/$PROFILE/$(basename "$latest")"
fi
exit "$status"
