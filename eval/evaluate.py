"""Regression evaluation: python eval/evaluate.py [--split dev|test] [--mode M|all] [--json] [--check] [--report]."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reportsearch.evalcli import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
