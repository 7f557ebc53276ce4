#!/usr/bin/python3
"""tests/ci/run_ci_locally.py — runs the CI templates of examples/ci on this
machine, the way their CI would, so a test can exercise them (a GitHub
Actions run cannot happen here).

  run_ci_locally.py github WORKFLOW.yml --source DIR --state DIR [options]
  run_ci_locally.py gitlab JOBS.yml     --source DIR --state DIR [options]

Each invocation is one pipeline on a fresh "runner": a new workspace copied
from the source tree (with its build/ directory, so `make` has little to
do), the template's own steps run by bash in order, and what the CI
services do is emulated with local state under --state, which persists
between invocations like a CI's cache and forge do:
  GitHub   actions/checkout (the copy), actions/cache/restore|save (a
           directory per key, restore-keys by prefix, newest first),
           actions/upload-artifact (copied to STATE/artifacts/N/NAME),
           ${{ }} expressions and if: conditions (the subset the template
           uses), GITHUB_OUTPUT/GITHUB_STEP_SUMMARY/GITHUB_ENV, secrets;
  GitLab   variables (with $VAR expansion), cache: paths (one key),
           before_script + script in one shell, artifacts: paths and
           reports: junit (copied), CI_* variables;
  both     a forge API on 127.0.0.1 (GitHub issue comments, GitLab merge
           request notes: list, create, update) whose comments persist in
           STATE/forge.json; `sudo` runs its command; `apt-get` checks that
           the packages asked for are installed and fails if not (no
           network, no installing).
Prints each step and writes STATE/last-run.json: every step's name, status
and exit code, the artifacts and the job's result. Exit 0 when the job
passed, 1 when it failed, 2 when the template could not be run.
"""
import argparse
import http.server
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import yaml

# ---- the forge --------------------------------------------------------------


class Forge:
    """Comments of pull requests (GitHub) and notes of merge requests
    (GitLab), persisted in a JSON file."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                self.state = json.load(f)
        else:
            self.state = {"next_id": 100, "threads": {}}

    def save(self):
        with open(self.path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(self.state, f, indent=1)
        os.replace(self.path + ".tmp", self.path)

    def handle(self, method, path, body, headers):
        routes = [
            (r"^/repos/([^/]+/[^/]+)/issues/(\d+)/comments$", "gh-list"),
            (r"^/repos/([^/]+/[^/]+)/issues/comments/(\d+)$", "gh-item"),
            (r"^/api/v4/projects/(\d+)/merge_requests/(\d+)/notes$", "gl-list"),
            (r"^/api/v4/projects/(\d+)/merge_requests/(\d+)/notes/(\d+)$", "gl-item"),
        ]
        p = path.split("?", 1)[0]
        for rx, kind in routes:
            m = re.match(rx, p)
            if m:
                break
        else:
            return 404, {"message": "not found"}
        if kind.startswith("gh") and not headers.get("Authorization", "").startswith("Bearer "):
            return 401, {"message": "Bad credentials"}
        if kind.startswith("gl") and not headers.get("PRIVATE-TOKEN"):
            return 401, {"message": "401 Unauthorized"}
        with self.lock:
            threads = self.state["threads"]
            if kind in ("gh-list", "gl-list"):
                key = kind[:2] + ":" + m.group(1) + ":" + m.group(2)
                items = threads.setdefault(key, [])
                if method == "GET":
                    return 200, items
                if method == "POST":
                    doc = json.loads(body or b"{}")
                    if not isinstance(doc.get("body"), str):
                        return 422, {"message": "body is required"}
                    item = {"id": self.state["next_id"], "body": doc["body"],
                            "updated": 0}
                    self.state["next_id"] += 1
                    items.append(item)
                    self.save()
                    return 201, item
                return 405, {"message": "method not allowed"}
            # one item
            want = int(m.group(2) if kind == "gh-item" else m.group(3))
            ok_methods = ("PATCH",) if kind == "gh-item" else ("PUT",)
            if method not in ok_methods:
                return 405, {"message": "method not allowed"}
            for key, items in threads.items():
                for item in items:
                    if item["id"] == want and key.startswith(kind[:2]):
                        doc = json.loads(body or b"{}")
                        item["body"] = doc.get("body", item["body"])
                        item["updated"] += 1
                        self.save()
                        return 200, item
            return 404, {"message": "no such comment"}


def serve(forge):
    class H(http.server.BaseHTTPRequestHandler):
        def _do(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
            code, doc = forge.handle(self.command, self.path, body, self.headers)
            out = json.dumps(doc).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        do_GET = do_POST = do_PATCH = do_PUT = _do

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv

# ---- the runner's machine -----------------------------------------------------


def make_shims(d):
    """`sudo` runs its command (root already, like a hosted runner's
    passwordless sudo); `apt-get install` checks what it would install."""
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "sudo"), "w") as f:
        f.write('#!/bin/sh\nexec "$@"\n')
    with open(os.path.join(d, "apt-get"), "w") as f:
        f.write("""#!/bin/sh
# run_ci_locally's apt-get: the image must already have the packages.
[ "$1" = update ] && exit 0
for p in "$@"; do
    case $p in -*|install) continue;; esac
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
        { echo "apt-get (run_ci_locally): $p is not installed on this runner" >&2; exit 100; }
done
""")
    for n in ("sudo", "apt-get"):
        os.chmod(os.path.join(d, n), 0o755)


SKIP_TOP = {".git", "build", "perf-history.db", ".perf-cache", "perf-out"}
SKIP_BUILD = {"asan", "tsan", "valgrind", "fuzz", "perf-revs", "tests", "ci-workspaces"}


def checkout(source, ws):
    """A fresh clone's files, plus the source tree's build products (mtimes
    kept) so the template's `make` only rebuilds what is out of date."""
    for name in os.listdir(source):
        if name in SKIP_TOP:
            continue
        s, d = os.path.join(source, name), os.path.join(ws, name)
        if os.path.isdir(s) and not os.path.islink(s):
            shutil.copytree(s, d, symlinks=True)
        else:
            shutil.copy2(s, d, follow_symlinks=False)
    b = os.path.join(source, "build")
    if os.path.isdir(b):
        os.makedirs(os.path.join(ws, "build"))
        for name in os.listdir(b):
            if name in SKIP_BUILD:
                continue
            s, d = os.path.join(b, name), os.path.join(ws, "build", name)
            if os.path.isdir(s):
                shutil.copytree(s, d, symlinks=True)
            else:
                shutil.copy2(s, d)


def copy_path(src, dst):
    if os.path.isdir(src):
        shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True)
    elif os.path.exists(src):
        os.makedirs(os.path.dirname(dst) or ".", exist_ok=True)
        shutil.copy2(src, dst)

# ---- GitHub expressions -------------------------------------------------------


def lookup(ctx, dotted):
    cur = ctx
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return ""
        cur = cur[part]
    return cur


TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>\d+)|(?P<op>==|!=|&&|\|\||!|\(|\))"
                   r"|(?P<fn>[a-z]+)\(\)|(?P<id>[A-Za-z_][A-Za-z0-9_.\-]*))")


def evaluate(expr, ctx):
    """The expression subset the templates use: context lookups, string and
    number literals, == != ! && || (with GitHub's value semantics: && and
    || return an operand), parentheses, and success() failure() always()
    cancelled()."""
    toks, pos = [], 0
    expr = expr.strip()
    while pos < len(expr):
        m = TOKEN.match(expr, pos)
        if not m or m.end() == pos:
            raise ValueError(f"cannot parse expression: {expr!r}")
        pos = m.end()
        toks.append(m)
    i = 0

    def peek():
        return toks[i].group("op") if i < len(toks) else None

    def primary():
        nonlocal i
        t = toks[i]
        i += 1
        if t.group("op") == "(":
            v = orr()
            i += 1
            return v
        if t.group("op") == "!":
            return not truthy(primary())
        if t.group("str") is not None:
            return t.group("str")[1:-1].replace("''", "'")
        if t.group("num") is not None:
            return int(t.group("num"))
        if t.group("fn"):
            fn = t.group("fn")
            return {"always": True, "success": not ctx["_failed"],
                    "failure": ctx["_failed"], "cancelled": False}[fn]
        name = t.group("id")
        if name in ("true", "false"):
            return name == "true"
        return lookup(ctx, name)

    def cmp():
        nonlocal i
        v = primary()
        while peek() in ("==", "!="):
            op = peek()
            i += 1
            w = primary()
            v = (str(v) == str(w)) if op == "==" else (str(v) != str(w))
        return v

    def andd():
        nonlocal i
        v = cmp()
        while peek() == "&&":
            i += 1
            w = cmp()
            v = w if truthy(v) else v
        return v

    def orr():
        nonlocal i
        v = andd()
        while peek() == "||":
            i += 1
            w = andd()
            v = v if truthy(v) else w
        return v

    return orr()


def truthy(v):
    return v not in ("", 0, False, None)


def interpolate(text, ctx):
    def one(m):
        v = evaluate(m.group(1), ctx)
        return "true" if v is True else "false" if v is False else str(v)

    return re.sub(r"\$\{\{(.*?)\}\}", one, str(text))


def condition(cond, ctx):
    if cond is None:
        return not ctx["_failed"]
    c = str(cond).strip()
    if c.startswith("${{") and c.endswith("}}"):
        c = c[3:-2]
    uses_status = re.search(r"\b(always|success|failure|cancelled)\(\)", c)
    v = truthy(evaluate(c, ctx))
    return v if uses_status else (v and not ctx["_failed"])

# ---- one step -------------------------------------------------------------------


def run_shell(script, env, cwd, log, shell):
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as f:
        f.write(script)
        path = f.name
    try:
        p = subprocess.run(shell + [path], cwd=cwd, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    finally:
        os.unlink(path)
    out = p.stdout.decode(errors="replace")
    log.write(out)
    sys.stdout.write("".join("    | " + l + "\n" for l in out.splitlines()[-40:]))
    return p.returncode


def base_env(args, shims, forge_url):
    env = {k: v for k, v in os.environ.items()
           if k in ("PATH", "HOME", "LANG", "TMPDIR", "USER", "LOGNAME")}
    env["PATH"] = shims + ":" + env.get("PATH", "/usr/bin:/bin")
    env["CI"] = "true"
    return env


def github(args, wf, ws, state, forge_url, shims, log):
    job = next(iter(wf["jobs"].values())) if not args.job else wf["jobs"][args.job]
    run_id = args.run_number
    ctx = {
        "github": {"workspace": ws, "event_name": args.event, "ref": args.ref,
                   "ref_name": args.ref.rsplit("/", 1)[-1], "sha": args.sha,
                   "run_id": str(run_id), "repository": "local/lightningdb",
                   "event": {"pull_request": {"number": args.pr}} if args.event ==
                   "pull_request" else {}},
        "runner": {"os": "Linux", "temp": os.path.join(state, "runner-temp")},
        "secrets": {"GITHUB_TOKEN": "local-token"},
        "steps": {}, "env": {}, "_failed": False,
    }
    os.makedirs(ctx["runner"]["temp"], exist_ok=True)
    env_job = {}
    for k, v in (wf.get("env") or {}).items():
        env_job[k] = interpolate(v, ctx)
    for k, v in (job.get("env") or {}).items():
        env_job[k] = interpolate(v, ctx)
    env_job.update(args.env)
    results = []
    summary = os.path.join(state, "step-summary.md")
    open(summary, "w").close()
    for n, step in enumerate(job["steps"]):
        name = step.get("name") or step.get("uses") or f"step {n + 1}"
        ctx["env"] = dict(env_job)
        if not condition(step.get("if"), ctx):
            print(f"  - {name}: skipped")
            results.append({"name": name, "status": "skipped"})
            continue
        print(f"  - {name}")
        log.write(f"==== {name}\n")
        rc = 0
        uses = step.get("uses")
        withs = {k: interpolate(v, ctx) for k, v in (step.get("with") or {}).items()}
        if uses:
            action = uses.split("@", 1)[0]
            if action == "actions/checkout":
                checkout(args.source, ws)
            elif action == "actions/cache/restore":
                rc = cache_restore(state, ws, withs)
            elif action == "actions/cache/save":
                rc = cache_save(state, ws, withs)
            elif action == "actions/upload-artifact":
                dst = os.path.join(state, "artifacts", str(run_id), withs["name"])
                copy_path(os.path.join(ws, withs["path"].rstrip("/")), dst)
            else:
                print(f"run_ci_locally: no emulation of {uses}", file=sys.stderr)
                return 2, results
        else:
            env = base_env(args, shims, forge_url)
            env.update(env_job)
            env.update({k: interpolate(v, ctx) for k, v in (step.get("env") or {}).items()})
            out_file = os.path.join(state, "github-output")
            open(out_file, "w").close()
            env.update({"GITHUB_WORKSPACE": ws, "GITHUB_OUTPUT": out_file,
                        "GITHUB_STEP_SUMMARY": summary, "GITHUB_API_URL": forge_url,
                        "GITHUB_REPOSITORY": "local/lightningdb", "GITHUB_EVENT_NAME":
                        args.event, "GITHUB_REF": args.ref, "GITHUB_SHA": args.sha,
                        "GITHUB_ACTIONS": "true", "RUNNER_TEMP": ctx["runner"]["temp"]})
            script = interpolate(step["run"], ctx)
            rc = run_shell(script, env, os.path.join(ws, step.get("working-directory", "")),
                           log, ["bash", "--noprofile", "--norc", "-eo", "pipefail"])
            outs = {}
            with open(out_file, encoding="utf-8") as f:
                for line in f:
                    if "=" in line:
                        k, v = line.rstrip("\n").split("=", 1)
                        outs[k] = v
            if step.get("id"):
                ctx["steps"][step["id"]] = {"outputs": outs,
                                            "outcome": "success" if rc == 0 else "failure"}
        status = "success" if rc == 0 else "failure"
        if rc:
            ctx["_failed"] = True
        print(f"    -> {status}" + (f" (exit {rc})" if rc else ""))
        entry = {"name": name, "status": status, "exit_code": rc}
        if step.get("id") and not uses:
            entry["outputs"] = ctx["steps"][step["id"]]["outputs"]
        results.append(entry)
    return (1 if ctx["_failed"] else 0), results


def cache_dir(state, key):
    return os.path.join(state, "cache", re.sub(r"[^A-Za-z0-9._-]", "_", key))


def cache_restore(state, ws, withs):
    keys = [withs["key"]] + [k for k in str(withs.get("restore-keys", "")).split("\n") if k]
    root = os.path.join(state, "cache")
    os.makedirs(root, exist_ok=True)
    entries = sorted(os.listdir(root), key=lambda e: os.path.getmtime(os.path.join(root, e)),
                     reverse=True)
    for k in keys:
        kk = re.sub(r"[^A-Za-z0-9._-]", "_", k)
        hit = [e for e in entries if e == kk] or [e for e in entries if e.startswith(kk)]
        if hit:
            copy_path(os.path.join(root, hit[0]), os.path.join(ws, withs["path"]))
            print(f"    cache restored from {hit[0]}")
            return 0
    print("    cache not found")
    return 0


def cache_save(state, ws, withs):
    d = cache_dir(state, withs["key"])
    if os.path.exists(d):
        print(f"    cache {withs['key']} exists; not saved")
        return 0
    src = os.path.join(ws, withs["path"])
    if not os.path.exists(src):
        print(f"    nothing to cache at {withs['path']}")
        return 0
    copy_path(src, d + ".tmp")
    os.replace(d + ".tmp", d)
    os.utime(d)
    print(f"    cache saved as {withs['key']}")
    return 0


def expand(value, env):
    return re.sub(r"\$(?:\{(\w+)\}|(\w+))",
                  lambda m: env.get(m.group(1) or m.group(2), ""), str(value))


def gitlab(args, doc, ws, state, forge_url, shims, log):
    job = doc[args.job or "perf"]
    env = base_env(args, shims, forge_url)
    env.update({"GITLAB_CI": "true", "CI_PROJECT_DIR": ws, "CI_PROJECT_ID": "1",
                "CI_API_V4_URL": forge_url + "/api/v4", "CI_DEFAULT_BRANCH": "main",
                "CI_COMMIT_SHA": args.sha, "CI_PIPELINE_SOURCE": args.event,
                "CI_COMMIT_REF_NAME": args.ref.rsplit("/", 1)[-1],
                "PERF_COMMENT_TOKEN": "local-token"})
    if args.event == "merge_request_event":
        env["CI_MERGE_REQUEST_IID"] = str(args.pr)
    else:
        env["CI_COMMIT_BRANCH"] = args.ref.rsplit("/", 1)[-1]
    for k, v in (doc.get("variables") or {}).items():
        env[k] = expand(v, env)
    for k, v in (job.get("variables") or {}).items():
        env[k] = expand(v, env)
    env.update(args.env)
    results = []
    print("  - checkout")
    checkout(args.source, ws)
    cache = job.get("cache") or {}
    ckey = cache_dir(state, "gitlab-" + expand(cache.get("key", "default"), env))
    for p in cache.get("paths", []):
        src = os.path.join(ckey, p.rstrip("/"))
        if os.path.exists(src):
            copy_path(src, os.path.join(ws, p.rstrip("/")))
            print(f"  - cache restored: {p}")
    # GitLab runs before_script and script as one shell session that stops
    # at the first failing line.
    lines = list(job.get("before_script") or []) + list(job.get("script") or [])
    script = "set -eo pipefail\n" + "\n".join(
        f"printf '%s\\n' {shlex.quote('$ ' + l)}\n{l}" for l in lines) + "\n"
    print("  - script")
    log.write("==== script\n")
    rc = run_shell(script, env, ws, log, ["bash", "--noprofile", "--norc"])
    results.append({"name": "script", "status": "success" if rc == 0 else "failure",
                    "exit_code": rc})
    print(f"    -> exit {rc}")
    if cache.get("policy", "pull-push") != "pull":
        for p in cache.get("paths", []):
            src = os.path.join(ws, p.rstrip("/"))
            if os.path.exists(src):
                shutil.rmtree(os.path.join(ckey, p.rstrip("/")), ignore_errors=True)
                copy_path(src, os.path.join(ckey, p.rstrip("/")))
        print("  - cache saved")
    art = job.get("artifacts") or {}
    if rc == 0 or art.get("when") in ("always", "on_failure"):
        dst = os.path.join(state, "artifacts", str(args.run_number))
        for p in art.get("paths", []):
            copy_path(os.path.join(ws, p.rstrip("/")), os.path.join(dst, p.rstrip("/")))
        for kind, p in (art.get("reports") or {}).items():
            src = os.path.join(ws, p)
            if not os.path.exists(src):
                print(f"run_ci_locally: artifacts:reports:{kind} {p} is missing",
                      file=sys.stderr)
                results.append({"name": f"report {kind}", "status": "failure"})
                rc = rc or 1
                continue
            copy_path(src, os.path.join(dst, "reports", kind, os.path.basename(p)))
        print("  - artifacts uploaded")
    return (0 if rc == 0 else 1), results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["github", "gitlab"])
    ap.add_argument("template")
    ap.add_argument("--source", required=True, help="the repository to check out")
    ap.add_argument("--state", required=True, help="cache, forge and artifacts, kept")
    ap.add_argument("--job")
    ap.add_argument("--event", default=None)
    ap.add_argument("--ref", default="refs/heads/main")
    ap.add_argument("--sha", default="0" * 40)
    ap.add_argument("--pr", type=int, default=1)
    ap.add_argument("--env", action="append", default=[], help="KEY=VALUE overrides")
    args = ap.parse_args()
    args.env = dict(e.split("=", 1) for e in args.env)
    if args.event is None:
        args.event = "push" if args.kind == "github" else "push"
    os.makedirs(args.state, exist_ok=True)
    counter = os.path.join(args.state, "run-number")
    args.run_number = int(open(counter).read()) + 1 if os.path.exists(counter) else 1
    with open(counter, "w") as f:
        f.write(str(args.run_number))
    with open(args.template, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    forge = Forge(os.path.join(args.state, "forge.json"))
    srv = serve(forge)
    forge_url = f"http://127.0.0.1:{srv.server_address[1]}"
    shims = os.path.join(args.state, "shims")
    make_shims(shims)
    ws = os.path.join(args.state, f"workspace-{args.run_number}")
    shutil.rmtree(ws, ignore_errors=True)
    os.makedirs(ws)
    t0 = time.time()
    print(f"run_ci_locally: {args.kind} {args.template}, run {args.run_number}, "
          f"event {args.event}, ref {args.ref}")
    with open(os.path.join(args.state, f"log-{args.run_number}.txt"), "w") as log:
        if args.kind == "github":
            rc, results = github(args, doc, ws, args.state, forge_url, shims, log)
        else:
            rc, results = gitlab(args, doc, ws, args.state, forge_url, shims, log)
    srv.shutdown()
    report = {"run": args.run_number, "kind": args.kind, "result":
              "success" if rc == 0 else "failure", "steps": results,
              "workspace": ws, "seconds": round(time.time() - t0, 1),
              "artifacts": os.path.join(args.state, "artifacts", str(args.run_number))}
    with open(os.path.join(args.state, "last-run.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(f"run_ci_locally: job {report['result']} in {report['seconds']} s")
    return rc


if __name__ == "__main__":
    sys.exit(main())
