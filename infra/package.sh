#!/usr/bin/env bash
# The cloud artifact: OUT_DIR/sam.json, deployment.zip (app.py) and
# layer-deployment.zip (citybrain, functions and the run-time wheels).
#
#   infra/package.sh STAGE [OUT_DIR]     (OUT_DIR defaults to build/STAGE)
#
# `make package STAGE=prod` runs it with .venv first on PATH: chalice builds the
# wheels for the Python that runs it, so that Python must be the Lambda runtime's.
# The project is packaged from a clean copy (OUT_DIR/.src): no __pycache__ or
# local state ends up in the zips, and chalice's wheel cache survives reruns.
set -euo pipefail

stage=${1:?usage: infra/package.sh STAGE [OUT_DIR]}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$(realpath -m "${2:-$root/build/$stage}")
src=$out/.src
runtime=3.12

python -c "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '$runtime'.split('.'))))" || {
    echo "package.sh: 'python' on PATH must be Python $runtime (the Lambda runtime); run it through make package" >&2
    exit 1
}
command -v chalice >/dev/null || { echo "package.sh: chalice not found; run it through make package" >&2; exit 1; }
# The region only picks the partition of service principals in the template
# (aws or aws-cn); deploy names the real one.
export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-${AWS_REGION:-ap-east-1}}

started=$(date +%s)
mkdir -p "$src/.chalice"
rm -rf "$src/app.py" "$src/chalice.json" "$src/requirements.txt" "$src/chalicelib" "$src/functions" \
       "$src/layers" "$src/vendor" "$src/.chalice/config.json" "$src/.chalice"/policy-*.json \
       "$out/sam.json" "$out/deployment.zip" "$out/layer-deployment.zip" "$out/merge-template.json"
parts=(app.py chalice.json requirements.txt .chalice/config.json vendor functions layers/citybrain)
[ -d "$root/chalicelib" ] && parts+=(chalicelib)
(cd "$root" && tar -cf - --exclude=__pycache__ --exclude='*.pyc' "${parts[@]}") | (cd "$src" && tar -xf -)

(cd "$root" && python -m infra.template write --stage "$stage" --out "$out/merge-template.json" \
                                              --chalice-dir "$src/.chalice")
(cd "$src" && chalice package --stage "$stage" --merge-template "$out/merge-template.json" "$out")
(cd "$root" && python -m infra.template check "$out/sam.json")

echo "packaged stage $stage in $(( $(date +%s) - started ))s:"
for f in sam.json deployment.zip layer-deployment.zip; do
    printf '  %-22s %8s bytes\n' "$f" "$(stat -c %s "$out/$f")"
done
