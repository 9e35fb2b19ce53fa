#!/usr/bin/env bash
# soak.sh [minutes]: the crash soak (default 30 minutes). Builds, then for the given time runs random hdb
# processes (ingest, delete, compact, query, train) on one database, most killed with SIGKILL at a random
# moment or at a random kill point (src/HammingDB.Storage/KillPoints.cs); after each, reopens and checks
# the database against what was acknowledged, runs hdb check, and compares queries with brute force
# (tests/HammingDB.Tests/Faults/SoakTests.cs). Prints one summary line; exits non-zero on any failure
# (the failing database is kept in $TMPDIR/hdb-soak-failure-SEED). HAMMINGDB_SOAK_SEED=N repeats a run's choices.
# Needs the .NET 10 SDK; writes only under the temporary directory.
set -euo pipefail
minutes=${1:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
summary=$(mktemp)
trap 'rm -f "$summary"' EXIT
dotnet build "$root/tests/HammingDB.Tests" -c Release -v quiet -nologo
status=0
HAMMINGDB_SOAK_MINUTES=$minutes HAMMINGDB_SOAK_SUMMARY=$summary \
  dotnet test "$root/tests/HammingDB.Tests" -c Release --no-build --nologo \
  --filter "FullyQualifiedName=HammingDB.Tests.Faults.SoakTests.Soak" --logger "console;verbosity=detailed" || status=$?
if [ -s "$summary" ]; then
  cat "$summary"
else
  echo "soak: no summary (the test run failed before the soak ended)"
  [ "$status" -ne 0 ] || status=1
fi
exit "$status"
