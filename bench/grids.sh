#!/usr/bin/env bash
# Writes a province-sized grid as the CSV of POST /v1/imports/grids (DESIGN §8 bulk import):
#   bash bench/grids.sh [VILLAGES_PER_TOWNSHIP [GRIDS_PER_VILLAGE]] > grids.csv
# One township cell under each of the 8 demo township units (data/demo/units.csv), 100
# villages each and 124 grids per village by default: 8 + 800 + 99,200 = 100,008 cells with
# unique codes B-TS-NCS, B-TS-NCS-001, B-TS-NCS-001-001, ...
set -euo pipefail
export LC_ALL=C
villages=${1:-100} grids=${2:-124}
awk -v nv="$villages" -v ng="$grids" 'BEGIN {
  n = split("TS-NCS TS-TJ TS-BCS TS-HS TS-DQD TS-XQD TS-NHC TS-BHC", ts, " ")
  print "code,level,name,parent_code"
  for (t = 1; t <= n; t++) {
    tc = "B-" ts[t]
    printf "%s,township,基准%s,%s\n", tc, ts[t], ts[t]
    for (v = 1; v <= nv; v++) {
      vc = sprintf("%s-%03d", tc, v)
      printf "%s,village,基准%s第%03d村,%s\n", vc, ts[t], v, tc
      for (g = 1; g <= ng; g++)
        printf "%s-%03d,grid,基准%s第%03d村第%03d网格,%s\n", vc, g, ts[t], v, g, vc
    }
  }
}'
