"""The docs layer's templates: shipped with the package, and escaping what they are given."""

from __future__ import annotations

import tomllib

import pytest
from jinja2 import UndefinedError

from pipelines.docs.report import empty_report
from pipelines.docs.templating import environment, md_code, render
from pipelines.spec.settings import PROJECT_ROOT

TEMPLATES = PROJECT_ROOT / "pipelines" / "docs" / "templates"


def test_every_template_is_package_data() -> None:
    """A wheel or a non-editable install carries only the files pyproject lists; every template must be one."""
    settings = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    package = PROJECT_ROOT / "pipelines" / "docs"
    shipped = {path for pattern in settings["pipelines.docs"] for path in package.glob(pattern)}
    templates = {path for path in TEMPLATES.rglob("*") if path.is_file()}
    assert templates
    assert templates <= shipped, sorted(str(path.relative_to(package)) for path in templates - shipped)
    assert set(environment().list_templates()) == {path.relative_to(TEMPLATES).as_posix() for path in templates}


def test_report_text_is_escaped() -> None:
    page = empty_report("a <script>alert('x')</script> & more")
    assert "<script" not in page
    assert "a &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more." in page


def test_markdown_code_spans_become_code_and_the_rest_is_escaped() -> None:
    assert md_code("the `mql.score_threshold` <b>key</b>") == (
        "the <code>mql.score_threshold</code> &lt;b&gt;key&lt;/b&gt;"
    )


def test_a_missing_name_fails_the_render() -> None:
    with pytest.raises(UndefinedError):
        render("report/empty.html")
