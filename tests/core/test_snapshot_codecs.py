"""The codecs a store lists its snapshot state with: each writes JSON and reads it back,
refusing a wrong shape with the path of what is wrong."""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from trackmock.core.snapshot import (
    INT,
    NUMBER,
    STR,
    Fields,
    ListOf,
    MapOf,
    SnapshotError,
    TupleOf,
    snapshot_set,
    snapshots_in,
)


@dataclass
class Standing:
    token: dict[str, Any]
    seen: float | None
    hits: deque[float] = field(default_factory=deque)
    last: OrderedDict[str, float] = field(default_factory=OrderedDict)
    viewers: set[int] = field(default_factory=set)
    track: list[tuple[int, int]] = field(default_factory=list)


def _round_trip(codec: Any, value: Any) -> Any:
    return codec.load(orjson.loads(orjson.dumps(codec.dump(value))), "x")


def test_a_dataclass_round_trips_through_its_type_hints() -> None:
    value = Standing(
        {"token": "t", "n": [1, 2.5, None]},
        None,
        deque([1.5, 2.0]),
        OrderedDict([("b", 1.0), ("a", 2.0)]),
        {3, 1, 2},
        [(5, 1), (5, 2)],
    )
    loaded = _round_trip(Fields.of(Standing), value)
    assert loaded == value
    assert isinstance(loaded.hits, deque)
    assert list(loaded.last) == ["b", "a"]
    assert loaded.track == [(5, 1), (5, 2)]
    assert Fields.of(Standing).dump(value)["viewers"] == [1, 2, 3], "sets are written sorted"


def test_maps_keep_their_keys_and_order() -> None:
    assert _round_trip(MapOf(INT, STR), {3: "c", 1: "a"}) == {3: "c", 1: "a"}
    pairs = MapOf(TupleOf((STR, STR)), ListOf(NUMBER, deque))
    assert _round_trip(pairs, {("acme", "sam"): deque([1.0])}) == {("acme", "sam"): deque([1.0])}


@pytest.mark.parametrize(
    ("codec", "data", "message"),
    [
        (MapOf(INT, STR), {"01": "a"}, "x: key '01' is not an integer"),
        (MapOf(INT, STR), {"1": 2}, "x['1']: expected a string, found int"),
        (ListOf(INT), [1, True], "x[1]: expected an integer, found bool"),
        (TupleOf((INT, INT)), [1], "x: expected an array of 2, found list"),
        (MapOf(TupleOf((STR, STR)), INT), {"a": 1}, "x: expected an array of [key, value] pairs"),
        (Fields.of(Standing), {"token": {}}, "x: missing seen, hits, last, viewers, track"),
    ],
)
def test_a_wrong_shape_names_where(codec: Any, data: Any, message: str) -> None:
    with pytest.raises(SnapshotError) as refused:
        codec.load(data, "x")
    assert str(refused.value).startswith(message)


def test_a_set_of_snapshots_is_read_by_vendor() -> None:
    one = {"format": "trackmock-snapshot", "version": 1, "vendor": "track"}
    assert snapshots_in(one) == {"track": one}
    assert snapshots_in(snapshot_set([one])) == {"track": one}
    with pytest.raises(SnapshotError, match=r"snapshots\.tracker: its vendor is 'track'"):
        snapshots_in({"format": "trackmock-snapshots", "version": 1, "snapshots": {"tracker": one}})
    with pytest.raises(SnapshotError, match="snapshot set version 3 cannot be read"):
        snapshots_in({"format": "trackmock-snapshots", "version": 3, "snapshots": {}})
    with pytest.raises(SnapshotError, match="not a trackmock snapshot"):
        snapshots_in({"log": {}})
