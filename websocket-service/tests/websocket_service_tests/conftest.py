"""Hypothesis profiles for these tests, e.g. CI's --hypothesis-profile=loaded-machine."""

from __future__ import annotations

from shared_metrics.testing.hypothesis_profiles import register

register()
