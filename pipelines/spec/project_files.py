"""The project's files, read and validated once: settings, source contracts, models (with their check files), suites
and the shared definitions.

Loading the code location (pipelines/orchestration/project.py), the command line and the preflight checks
(pipelines/warehouse/preflight.py) all read the same files; so do assets and resources at run time (the MQL
threshold for a suite, the lookback of a partial rebuild, the redacted label of a raw load). Parsing and validating
`definitions.yml` or `sources.yml` again in every asset costs a strict-schema pass each time and lets two readers of
one run disagree if RevOps saves the file in between.

So the files are read through one cache, keyed by the file's path and the digest of its content (a suites folder:
the digest of every suite file in it). One run reads each file once; a long-lived process (`dagster dev`) still sees
an edited file on the next read, because its digest changed. An invalid file is never cached: every read reports the
same errors as the first, from the same strict schemas.

Models are cached one file at a time, by their place under the models folder and their text (and their check file's):
editing one model parses that model again, not the fifty others, and a copy of the models folder with one model
changed (a scratch project, a test's broken variant) parses only that one.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pipelines.spec.definitions_reader import read_document
from pipelines.spec.definitions_schema import validate_document
from pipelines.spec.models import Model, checks_path, load_model, load_models
from pipelines.spec.settings import Settings
from pipelines.spec.sources import SourceTable, load_sources
from pipelines.spec.suite_schema import Suite, load_suites

T = TypeVar("T")

# (kind of file, resolved path) -> (content digest, what was read): one entry per file, replaced when it changes.
_READ: dict[tuple[str, str], tuple[str, Any]] = {}


def _cached(kind: str, path: Path, digest: str, read: Callable[[], T]) -> T:
    """What `read` returns for this content of `path`, reading it only when the content is new to this process."""
    key = (kind, str(path.resolve()))
    known = _READ.get(key)
    if known is not None and known[0] == digest:
        return known[1]  # type: ignore[no-any-return]
    value = read()
    _READ[key] = (digest, value)
    return value


# (place under the models folder, model text, check file text) -> the model as parsed there; bounded, oldest first out.
_MODELS: dict[tuple[str, str, str | None], Model] = {}
_MODELS_KEPT = 2000


def read_model(path: Path, models_dir: Path) -> Model:
    """One model file and its check file (pipelines/spec/models.py), parsed once per content and place."""
    checks = checks_path(path)
    key = (path.relative_to(models_dir).as_posix(), path.read_text(), checks.read_text() if checks.exists() else None)
    known = _MODELS.get(key)
    if known is None:
        known = _MODELS[key] = load_model(path, models_dir)
        while len(_MODELS) > _MODELS_KEPT:
            del _MODELS[next(iter(_MODELS))]
    return known if known.path == path else dataclasses.replace(known, path=path)


@dataclass(frozen=True)
class DefinitionsDocument:
    """The validated definitions file: its path, the digest of its text (the version stamp BI sees) and the document
    suites resolve `$definition` against. Each read gives its own copy of the document."""

    path: Path
    digest: str
    document: dict[str, Any] = field(repr=False)


def read_definitions(path: Path) -> DefinitionsDocument:
    """Parse and validate the definitions file (pipelines/spec/definitions_schema.py), once per content.

    The document is copied for every caller, so one that edits it (a test building a variant) cannot change what the
    next one reads; a copy costs a hundredth of a parse.
    """
    text = path.read_text()
    digest = hashlib.sha256(text.encode()).hexdigest()

    def parse() -> dict[str, Any]:
        document, lines = read_document(path, text)
        validate_document(path, document, lines)
        return document  # type: ignore[no-any-return]

    document = _cached("definitions", path, digest, parse)
    return DefinitionsDocument(path=path, digest=digest[:16], document=copy.deepcopy(document))


def read_sources(path: Path) -> list[SourceTable]:
    """The source contracts of `sources.yml` (pipelines/spec/sources.py), parsed once per content."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return list(_cached("sources", path, digest, lambda: tuple(load_sources(path))))


def read_suites(directory: Path) -> list[Suite]:
    """The suites of `directory` (pipelines/spec/suite_schema.py), parsed again only when a suite file changed."""
    if not directory.is_dir():
        return load_suites(directory)
    content = hashlib.sha256()
    for path in sorted(directory.glob("*.json")):
        content.update(f"{path.name}\0{hashlib.sha256(path.read_bytes()).hexdigest()}\0".encode())
    return list(_cached("suites", directory, content.hexdigest(), lambda: tuple(load_suites(directory))))


@dataclass(frozen=True)
class ProjectFiles:
    """Everything a build reads from the project's files, validated: what the asset graph is made from."""

    settings: Settings
    sources: list[SourceTable]
    models: list[Model]
    definitions: DefinitionsDocument
    suites: list[Suite]


def load_project_files(settings: Settings) -> ProjectFiles:
    """Read and validate every file of the project once; the first invalid one raises, with the same message as its
    own reader gives (a ValueError: ModelError, SuiteError, DefinitionsError or a contract error)."""
    sources = read_sources(settings.sources_file)
    models = load_models(settings.models_dir, read_model)
    definitions = read_definitions(settings.definitions_file)
    suites = read_suites(settings.expectations_dir)
    return ProjectFiles(settings=settings, sources=sources, models=models, definitions=definitions, suites=suites)
