#!/usr/bin/python3
"""Checks docker/kubernetes/: parses every manifest and the overlays'
patches, and asserts what the README promises of them: the base passes
the "restricted" Pod Security Standard's securityContext rules, probes run
airlock itself, the grace period covers airlock's stop budget, the
production overlay turns SSH off with one variable, the root variant says
so. Prints one "ok"/"not ok" line per check, like lib.sh.

Usage: k8s_check.py DIR [RENDERED_DIR]
RENDERED_DIR, when given, holds base.yaml/production.yaml/root.yaml as
`kubectl kustomize` rendered them; they get the same checks.
"""
import os
import sys

import yaml

FAILED = 0


def check(name, cond):
    global FAILED
    print(("ok " if cond else "not ok ") + name)
    if not cond:
        FAILED += 1


def load(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def env_of(container):
    return {e["name"]: e.get("value") for e in container.get("env", [])}


def deployment(docs):
    deps = [d for d in docs if d.get("kind") == "Deployment"]
    return deps[0] if len(deps) == 1 else None


def check_restricted(label, dep):
    pod = dep["spec"]["template"]["spec"]
    psc = pod.get("securityContext", {})
    c = pod["containers"][0]
    csc = c.get("securityContext", {})
    env = env_of(c)
    check(f"{label}: runAsNonRoot", psc.get("runAsNonRoot") is True
          and csc.get("runAsNonRoot", True) is True)
    check(f"{label}: runAsUser is not 0", psc.get("runAsUser", 0) != 0)
    check(f"{label}: seccomp RuntimeDefault",
          psc.get("seccompProfile", {}).get("type") == "RuntimeDefault")
    check(f"{label}: allowPrivilegeEscalation false",
          csc.get("allowPrivilegeEscalation") is False)
    check(f"{label}: readOnlyRootFilesystem",
          csc.get("readOnlyRootFilesystem") is True)
    caps = csc.get("capabilities", {})
    check(f"{label}: capabilities drop ALL, add nothing",
          caps.get("drop") == ["ALL"] and not caps.get("add"))
    mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    for path in ("/run", "/tmp"):
        check(f"{label}: emptyDir at {path}",
              path in mounts and "emptyDir" in vols.get(mounts[path], {}))
    check(f"{label}: no port below 1024",
          all(p["containerPort"] >= 1024 for p in c.get("ports", [])))
    check(f"{label}: AIRLOCK_SSH_USER is set for the non-root uid",
          env.get("AIRLOCK_SSH_USER") not in (None, "root"))


def check_common(label, dep):
    pod = dep["spec"]["template"]["spec"]
    c = pod["containers"][0]
    env = env_of(c)
    for probe in ("readinessProbe", "livenessProbe"):
        cmd = c.get(probe, {}).get("exec", {}).get("command", [])
        check(f"{label}: {probe} runs 'airlock status'",
              len(cmd) == 2 and os.path.basename(cmd[0]) == "airlock"
              and cmd[1] == "status")
    grace = float(env.get("AIRLOCK_GRACE", "5"))
    tgps = pod.get("terminationGracePeriodSeconds", 30)
    check(f"{label}: terminationGracePeriodSeconds ({tgps}) > "
          f"AIRLOCK_GRACE ({grace:g})", tgps > grace)
    mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    keys = vols.get(mounts.get("/etc/airlock/authorized_keys.d"), {})
    check(f"{label}: keys from a Secret", "secret" in keys)
    hk = env.get("AIRLOCK_SSH_HOST_KEY_FILE", "")
    hk_vol = vols.get(mounts.get(os.path.dirname(hk)), {})
    check(f"{label}: host key from a Secret", hk != "" and "secret" in hk_vol)


def check_service(label, docs, dep):
    svcs = [d for d in docs if d.get("kind") == "Service"]
    c = dep["spec"]["template"]["spec"]["containers"][0]
    names = {p.get("name") for p in c.get("ports", [])}
    check(f"{label}: a Service for the SSH port",
          len(svcs) == 1 and
          svcs[0]["spec"]["selector"].items() <=
          dep["spec"]["template"]["metadata"]["labels"].items() and
          any(p.get("targetPort") in names for p in svcs[0]["spec"]["ports"]))


def main():
    top = sys.argv[1]
    base = []
    for name in sorted(os.listdir(f"{top}/base")):
        if name != "kustomization.yaml" and name.endswith(".yaml"):
            base += load(f"{top}/base/{name}")
    for overlay in ("base", "production", "root"):
        k = load(f"{top}/{overlay}/kustomization.yaml")[0]
        files = k.get("resources", []) + [p["path"] for p in
                                          k.get("patches", [])]
        check(f"{overlay}: kustomization names existing files",
              all(os.path.exists(f"{top}/{overlay}/{f}") for f in files))
    dep = deployment(base)
    check("base: one Deployment", dep is not None)
    if dep is None:
        return
    check_restricted("base", dep)
    check_common("base", dep)
    check_service("base", base, dep)
    check("base: SSH on (the debug hatch)",
          env_of(dep["spec"]["template"]["spec"]["containers"][0])
          .get("AIRLOCK_SSH") == "on")

    prod = deployment(load(f"{top}/production/ssh-off.yaml"))
    pc = prod["spec"]["template"]["spec"]["containers"][0]
    check("production: the patch sets AIRLOCK_SSH=off and nothing else",
          env_of(pc) == {"AIRLOCK_SSH": "off"} and set(pc) == {"name", "env"})
    root = deployment(load(f"{top}/root/as-root.yaml"))
    rsc = root["spec"]["template"]["spec"]["securityContext"]
    rc = root["spec"]["template"]["spec"]["containers"][0]
    check("root: runs as uid 0 with the capabilities setuser needs",
          rsc.get("runAsUser") == 0 and
          {"SETUID", "SETGID"} <= set(rc["securityContext"]["capabilities"]
                                      .get("add", [])))

    if len(sys.argv) > 2:
        rendered = sys.argv[2]
        for overlay in ("base", "production", "root"):
            docs = load(f"{rendered}/{overlay}.yaml")
            d = deployment(docs)
            check(f"rendered {overlay}: one Deployment", d is not None)
            if d is None:
                continue
            check_common(f"rendered {overlay}", d)
            check_service(f"rendered {overlay}", docs, d)
            ssh = env_of(d["spec"]["template"]["spec"]["containers"][0])
            if overlay != "root":
                check_restricted(f"rendered {overlay}", d)
            check(f"rendered {overlay}: AIRLOCK_SSH",
                  ssh.get("AIRLOCK_SSH") ==
                  ("off" if overlay == "production" else "on"))


main()
sys.exit(1 if FAILED else 0)
