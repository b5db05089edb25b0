"""Print one closing line for all pytest runs Pants made: "Tests: N passed, N failed, N skipped".

Pants prints a line per test file, not pytest's own totals; this sums the JUnit reports that
`./pants test --test-report` writes, so the CI log ends with the totals.
"""

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
reports = sorted(Path(sys.argv[1]).glob("*.xml"))
for report in reports:
    root = ET.parse(report).getroot()
    suites = [root] if root.tag == "testsuite" else root.iter("testsuite")
    for suite in suites:
        for key in totals:
            totals[key] += int(suite.get(key, 0))
failed = totals["failures"] + totals["errors"]
passed = totals["tests"] - failed - totals["skipped"]
skipped = totals["skipped"]
print(f"Tests: {passed} passed, {failed} failed, {skipped} skipped ({len(reports)} files)")
sys.exit(1 if failed or not reports else 0)
