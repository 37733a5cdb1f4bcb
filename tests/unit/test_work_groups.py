"""`make test` runs two pytest-xdist workers: the tests that share a build run on one worker, so it is built once,
and the groups that build the most are sent first."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from _pytest.nodeid import NodeId

from tests.conftest import heaviest_first, name_group, work_groups


@dataclass(frozen=True)
class FakeItem:
    """What grouping reads of a collected test: its node id and the fixtures it uses."""

    nodeid: str
    fixturenames: tuple[str, ...] = ()


def test_a_module_is_one_group_and_the_modules_reading_a_shared_build_join_it() -> None:
    reads_build = FakeItem("tests/integration/test_a.py::test_one", ("demo_build", "tmp_path"))
    same_module = FakeItem("tests/integration/test_a.py::test_two", ("tmp_path",))
    other_reader = FakeItem("tests/unit/test_b.py::test_three", ("demo_build",))
    alone = FakeItem("tests/unit/test_c.py::test_four[x]", ("tmp_path",))
    groups = work_groups([reads_build, same_module, other_reader, alone])  # type: ignore[list-item]
    assert groups[reads_build] == groups[same_module] == groups[other_reader] == "demo_build"  # type: ignore[index]
    assert groups[alone] == "tests/unit/test_c.py"  # type: ignore[index]


def test_a_module_reading_two_shared_builds_joins_their_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tests.conftest.SHARED_BUILDS", {"demo_build", "guards_build"})
    guards = FakeItem("tests/integration/test_guards.py::test_one", ("guards_build",))
    both = FakeItem("tests/integration/test_x.py::test_two", ("demo_build", "guards_build"))
    demo = FakeItem("tests/integration/test_y.py::test_three", ("demo_build",))
    groups = work_groups([guards, both, demo])  # type: ignore[list-item]
    assert groups[guards] == groups[both] == groups[demo]  # type: ignore[index]


def test_the_groups_of_shared_builds_go_first_then_the_integration_tests() -> None:
    contract = FakeItem("tests/contract/test_a.py::test_one")
    integration = FakeItem("tests/integration/test_b.py::test_two")
    reader = FakeItem("tests/unit/test_c.py::test_three", ("demo_build",))
    items = [contract, integration, reader]
    ordered = heaviest_first(items, work_groups(items))  # type: ignore[arg-type]
    assert ordered == [reader, integration, contract]


class FakeMarkedItem:
    """A collected test in an xdist group: its node id (pytest's structured one) and its `xdist_group` mark."""

    def __init__(self, nodeid: str, group: str) -> None:
        self._id = NodeId.parse(nodeid)
        self.group = group

    @property
    def nodeid(self) -> str:
        return str(self._id)

    def iter_markers(self, name: str) -> list[pytest.Mark]:
        return [pytest.mark.xdist_group(self.group).mark] if name == "xdist_group" else []


def test_a_grouped_test_s_node_id_ends_with_its_group_once() -> None:
    """The suffix is what the loadgroup scheduler reads to keep a group on one worker."""
    item = FakeMarkedItem("tests/unit/test_a.py::test_one[x]", "demo_build")
    name_group(item)  # type: ignore[arg-type]
    name_group(item)  # type: ignore[arg-type]
    assert item.nodeid == "tests/unit/test_a.py::test_one[x]@demo_build"
