#!/bin/bash
# The Kubernetes manifests in docker/kubernetes/: parsed and checked by
# k8s_check.py (python3-yaml); where `kubectl kustomize` is available (it
# needs no cluster), the overlays are rendered and checked too.
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/lib.sh
source "$here/lib.sh"
dir=$here/../../docker/kubernetes

args=("$dir")
if command -v kubectl >/dev/null 2>&1 &&
    timeout 20 kubectl kustomize "$dir/base" >"$T/base.yaml" 2>"$T/err" &&
    timeout 20 kubectl kustomize "$dir/production" >"$T/production.yaml" 2>>"$T/err" &&
    timeout 20 kubectl kustomize "$dir/root" >"$T/root.yaml" 2>>"$T/err"; then
    args+=("$T")
else
    echo "# kubectl kustomize not available: checking the files as written"
fi
while read -r line; do
    case $line in
    "ok "*) ok "${line#ok }" ;;
    "not ok "*) not_ok "${line#not ok }" ;;
    "exit 0") ;;
    "exit "*) not_ok "k8s_check.py ended with status ${line#exit }" ;;
    *) echo "# $line" ;;
    esac
done < <(timeout 30 /usr/bin/python3 "$here/k8s_check.py" "${args[@]}" 2>&1
    echo "exit $?")
grep -q . "$T/err" 2>/dev/null && sed 's/^/# kubectl: /' "$T/err"
finish
