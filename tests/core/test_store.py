"""State: sequences without gaps or duplicates, tables with flat paging and cached encodings."""

from __future__ import annotations

import threading

from hypothesis import given, settings
from hypothesis import strategies as st
from trackmock.core.store import Sequences, Store, Table, Tenant


def test_eight_threads_draw_eight_thousand_contiguous_values() -> None:
    sequences = Sequences({"item": 1})
    drawn: list[list[int]] = [[] for _ in range(8)]
    barrier = threading.Barrier(8)

    def worker(index: int) -> None:
        barrier.wait()
        for _ in range(1000):
            drawn[index].append(sequences.next("item"))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    values = [value for chunk in drawn for value in chunk]
    assert sorted(values) == list(range(1, 8001))
    for chunk in drawn:
        assert chunk == sorted(chunk), "each writer sees strictly increasing values"


def test_sequences_start_where_configured_and_skip_past_loaded_ids() -> None:
    sequences = Sequences()
    assert sequences.next("a") == 1
    sequences.configure("case", 2933672)
    assert sequences.peek("case") == 2933672
    assert sequences.next("case") == 2933672
    sequences.skip_past("case", 3000000)
    assert sequences.next("case") == 3000001
    sequences.skip_past("case", 5)
    assert sequences.next("case") == 3000002
    sequences.reset()
    assert sequences.next("case") == 2933672
    assert sequences.next("a") == 1


@settings(deadline=None)  # a loaded machine must not fail it
@given(st.integers(0, 300), st.integers(0, 320), st.integers(0, 320), st.booleans())
def test_table_slices_match_list_slices(size: int, start: int, stop: int, reverse: bool) -> None:
    table: Table[int] = Table()
    for key in range(size):
        table.put(key, {"id": key})
    expected = list(range(size))
    if reverse:
        expected = expected[::-1]
    assert [r["id"] for r in table.slice(start, stop, reverse=reverse)] == expected[start:stop]


def test_table_caches_encodings_until_a_record_changes() -> None:
    calls: list[int] = []

    def encode(record: dict[str, object]) -> bytes:
        calls.append(int(record["id"]))  # type: ignore[call-overload]
        return f'{{"id":{record["id"]},"v":{record["v"]}}}'.encode()

    table: Table[int] = Table(encode)
    table.put(1, {"id": 1, "v": 1})
    table.put(2, {"id": 2, "v": 1})
    assert table.encoded_list(list(table), lambda r: r["id"]) == b'[{"id":1,"v":1},{"id":2,"v":1}]'
    table.encoded(1)
    assert calls == [1, 2]
    table.put(1, {"id": 1, "v": 2})
    assert table.encoded(1) == b'{"id":1,"v":2}'
    assert calls == [1, 2, 1]
    assert table.delete(2) == {"id": 2, "v": 1}
    assert table.keys() == [1]
    assert 2 not in table


def test_store_keeps_tenants_apart_and_resets() -> None:
    class Org(Tenant):
        def __init__(self, key: object) -> None:
            super().__init__(key)
            self.cases: Table[int] = Table()

    store: Store[Org] = Store(Org)
    store.tenant(1).cases.put(1, {"id": 1})
    assert len(store.tenant(2).cases) == 0
    assert store.tenant(1).sequences.next("history") == 1
    assert store.tenant(2).sequences.next("history") == 1
    assert store.has_tenant(1)
    store.reset()
    assert not store.has_tenant(1)
    assert len(store.tenant(1).cases) == 0


def test_a_restored_table_holds_exactly_the_rows_given_and_no_cached_encoding() -> None:
    table: Table[int] = Table(lambda record: str(record["v"]).encode())
    table.put(1, {"v": "old"})
    assert table.encoded(1) == b"old"
    table.restore([(2, {"v": "b"}), (1, {"v": "new"})])
    assert table.keys() == [2, 1]
    assert table.encoded(1) == b"new"
    assert table.encoded_list(list(table), lambda record: 1 if record["v"] == "new" else 2) == (
        b"[b,new]"
    )


def test_sequences_restore_their_next_values_and_keep_their_starts() -> None:
    sequences = Sequences({"case": 10})
    sequences.next("case")
    sequences.next("item")
    assert sequences.state() == {"case": 11, "item": 2}
    sequences.restore({"case": 50})
    assert sequences.next("case") == 50
    assert sequences.next("item") == 1
    sequences.reset()
    assert sequences.next("case") == 10
