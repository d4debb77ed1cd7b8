#!/bin/bash
# Run one profile on a PBS compute node (e.g. Intel DevCloud) and copy its run bundle back:
#   qsub -v PROFILE=cpu jobs/pbs_profile.sh            (from the repository root)
#   qsub -v PROFILE=ipex,VENV=.venv jobs/pbs_profile.sh
# The bundle lands in saved/runs/<profile>/<timestamp>/ of the node's checkout and is copied to
# $PBS_O_WORKDIR/bundles/<profile>/ (a shared home is the usual case: then it is simply there).
#PBS -N edge-vision-profile
#PBS -l nodes=1:ppn=2
#PBS -l walltime=04:00:00
#PBS -j oe
set -euo pipefail
PROFILE="${PROFILE:?set the profile: qsub -v PROFILE=cpu jobs/pbs_profile.sh}"
cd "${PBS_O_WORKDIR:-$(dirname "$0")/..}"
VENV="${VENV:-.venv}"
export MPLBACKEND=Agg
echo "profile $PROFILE on $(hostname), $(nproc) cores, job ${PBS_JOBID:-local}"
status=0
"$VENV/bin/python" -m lib.run --profile "$PROFILE" || status=$?
latest=$(ls -1d "saved/runs/$PROFILE"/*/ 2>/dev/null | sort | tail -n 1)
if [ -n "$latest" ]; then
  mkdir -p "bundles/$PROFILE"
  cp -r "$latest" "bundles/$PROFILE/"
  echo "bundle copied to bundles/$PROFILE/$(basename "$latest")"
fi
exit "$status"
