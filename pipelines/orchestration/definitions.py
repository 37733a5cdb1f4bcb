"""The one Dagster entry point: `dagster dev -w workspace.yaml` and `dagster definitions validate` load this."""

import dagster as dg

from pipelines.orchestration.project import build_definitions
from pipelines.spec.settings import Settings


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(Settings.from_env())
