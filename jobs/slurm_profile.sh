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
exec bash jobs/run_profile.sh "$PROFILE" "${SLURM_JOB_ID:-local}"
