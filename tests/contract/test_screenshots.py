"""The screenshots `make screenshots` takes are committed, small, and shown in docs/tour.md (no Chromium needed here).

Taking them needs Chromium and a demo build, so it is not part of the tests; this keeps the list of shots, the
pictures in docs/screenshots/ and the page showing them from drifting apart.
"""

from __future__ import annotations

import re

from pipelines.docs.screenshots import SCREENSHOTS_DIR, SHOTS
from pipelines.spec.settings import PROJECT_ROOT

TOUR = PROJECT_ROOT / "docs" / "tour.md"
MAX_BYTES = 300 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_every_shot_is_committed_small_and_shown_in_the_tour() -> None:
    shown = set(re.findall(r"!\[[^\]]*\]\(screenshots/([^)]+)\)", TOUR.read_text()))
    files = {shot.file for shot in SHOTS}
    assert shown == files
    assert {path.name for path in SCREENSHOTS_DIR.glob("*.png")} == files  # no picture left from a removed shot
    for name in sorted(files):
        data = (SCREENSHOTS_DIR / name).read_bytes()
        assert data.startswith(PNG_SIGNATURE), name
        assert len(data) <= MAX_BYTES, f"{name}: {len(data) // 1024} KB"


def test_each_shot_waits_for_its_page_and_clicks_only_with_something_to_wait_for() -> None:
    for shot in SHOTS:
        assert shot.ready, shot.file
        assert bool(shot.click) == bool(shot.after_click), shot.file
        assert re.match(r"\{(dagster|catalog|report)\}", shot.url), shot.file
