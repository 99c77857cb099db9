"""Shared pytest set-up for every tier: the project root importable, and Hypothesis without wall-clock deadlines.

The machine running the suite may be busy (CI, several developers on two cores), so a per-example deadline
would fail tests for the machine's load rather than the code's behaviour.
"""

import sys
from pathlib import Path

from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

settings.register_profile("windtunnel", deadline=None)
settings.load_profile("windtunnel")
