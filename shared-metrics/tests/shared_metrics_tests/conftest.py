"""Hypothesis profiles (see shared_metrics.testing.hypothesis_profiles)."""

from __future__ import annotations

from shared_metrics.testing.hypothesis_profiles import register

register()
