"""``python -m sluice.smoke`` (``make smoke``): the smoke test of a throwaway stage on the AWS account of the
current credentials; ``--local`` runs the same script against the local stack."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from sluice.demo import samples
from sluice.naming import THROWAWAY_STAGE_PATTERN
from sluice.smoke.script import SmokePlan, SmokeTarget, run_smoke

STAGE_PATTERN = re.compile(THROWAWAY_STAGE_PATTERN)


def credentials_missing() -> str:
    """Why AWS cannot be reached (empty when credentials resolve)."""
    import boto3

    session = boto3.session.Session()
    if session.get_credentials() is None:
        return "no AWS credentials (set AWS_PROFILE or AWS_ACCESS_KEY_ID, or run in CI with a role)"
    if not session.region_name:
        return "no AWS region (set AWS_REGION or AWS_DEFAULT_REGION)"
    return ""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sluice-smoke", description=__doc__)
    parser.add_argument("--stage", default="xsmk", help="throwaway stage: x + 3 lower-case letters or digits")
    parser.add_argument("--model", default="diabetes")
    parser.add_argument("--local", action="store_true", help="run the script against the local stack")
    parser.add_argument("--config", type=Path, default=Path("sluice.toml"))
    args = parser.parse_args(argv)
    target: SmokeTarget
    if args.local:
        from sluice.smoke.local import LocalTarget

        target = LocalTarget(args.config)
    else:
        if not STAGE_PATTERN.match(args.stage):
            print(f"smoke: --stage {args.stage!r} is not a throwaway stage (x + 3 lower-case letters or digits)")
            return 2
        missing = credentials_missing()
        if missing:
            print(f"smoke: skipped — {missing}")
            return 0
        from sluice.config import load_config
        from sluice.smoke.aws import AwsTarget

        target = AwsTarget(args.stage, models=load_config(args.config).names)
    plan = SmokePlan(model=args.model, data=samples.DIABETES if args.model == "diabetes" else samples.BREAST_CANCER,
                     target_column="progression" if args.model == "diabetes" else "diagnosis")
    report = run_smoke(target, plan, on_step=lambda step, detail: print(f"smoke: {step}: {detail}", flush=True))
    print("\n".join(report.lines()))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
