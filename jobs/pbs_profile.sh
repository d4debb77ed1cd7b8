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
exec bash jobs/run_profile.sh "$PROFILE" "${PBS_JOBID:-local}"
