"""Known vulnerabilities of the installed dependencies (pip-audit), with every accepted finding explained.

    python -m scripts.audit            # fails on any finding not listed in EXPLAINED
    python -m scripts.audit --strict   # also fails when the vulnerability service could not be reached

pip-audit asks PyPI's JSON API (or OSV) about each installed package. Where neither is reachable (a machine that
reaches only the package index, like the CI machines of this project), every package is reported "not audited":
this script says so plainly instead of calling the environment clean.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

# Vulnerability id -> why it does not affect this product. Empty: no finding is accepted.
EXPLAINED: dict[str, str] = {}


def run_pip_audit() -> dict:
    pip_audit = Path(sys.executable).with_name("pip-audit")
    completed = subprocess.run(  # noqa: S603 - our venv's pip-audit
        [str(pip_audit), "--format", "json", "--progress-spinner", "off", "--skip-editable"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    try:
        return json.loads(completed.stdout)
    except ValueError as exc:
        raise SystemExit(f"pip-audit failed:\n{completed.stdout}\n{completed.stderr}") from exc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strict", action="store_true", help="fail when packages could not be audited")
    args = parser.parse_args(argv)

    report = run_pip_audit()
    dependencies = report.get("dependencies", [])
    audited = [d for d in dependencies if "skip_reason" not in d]
    skipped = [d for d in dependencies if "skip_reason" in d]
    unexplained = []
    for dependency in audited:
        for vuln in dependency.get("vulns", []):
            ids = [vuln["id"], *vuln.get("aliases", [])]
            reason = next((EXPLAINED[i] for i in ids if i in EXPLAINED), None)
            line = f"{dependency['name']} {dependency['version']}: {vuln['id']} (fixed in {vuln.get('fix_versions')})"
            if reason:
                print(f"accepted  {line} — {reason}")  # noqa: T201
            else:
                unexplained.append(line)
                print(f"FINDING   {line}")  # noqa: T201
    print(f"{len(audited)} packages audited, {len(skipped)} not audited, {len(unexplained)} unexplained findings")  # noqa: T201
    if skipped and not audited:
        print(  # noqa: T201
            "NOT AUDITED: the vulnerability service could not be reached from this machine "
            f"({skipped[0]['skip_reason']}). Run `python -m scripts.audit` where PyPI's JSON API is reachable."
        )
    if unexplained:
        return 1
    return 1 if args.strict and skipped else 0


if __name__ == "__main__":
    sys.exit(main())
