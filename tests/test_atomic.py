"""``newsroom.atomic.write_atomic`` from several threads of one process at once (``serve`` runs, re-plans
and pulls on threads of its own): each write lands whole, none fails, no temporary file is left."""
from __future__ import annotations

import threading

from newsroom.atomic import write_atomic


def test_threads_writing_one_file_at_once_each_land_whole(tmp_path):
    target = tmp_path / ".gitattributes"
    texts = [f"writer {n}\n".encode() * 2000 for n in range(8)]
    start = threading.Barrier(len(texts))
    errors: list[BaseException] = []

    def write(data: bytes) -> None:
        start.wait()
        for _ in range(50):
            try:
                write_atomic(target, data)
            except BaseException as exc:  # noqa: BLE001 -- collected and asserted below
                errors.append(exc)

    threads = [threading.Thread(target=write, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert target.read_bytes() in texts
    assert [p.name for p in tmp_path.iterdir()] == [".gitattributes"]
