from pipelines.ingest.workers import assign, worker_count


def test_the_largest_work_goes_first_each_to_the_least_loaded_worker():
    work = {"pension": 50.0, "medical": 20.0, "roster": 15.0, "hukou": 12.0, "housing": 1.0}
    got = assign(work, 2)
    assert got["pension"] != got["medical"]
    loads = [sum(w for t, w in work.items() if got[t] == i) for i in range(2)]
    assert loads == [50.0, 48.0]
    assert set(assign(work, 1).values()) == {0}


def test_workers_default_to_one_per_core_and_never_exceed_the_sources():
    assert worker_count(3, 6) == 3
    assert worker_count(8, 2) == 2
    assert worker_count(0, 100) >= 1
