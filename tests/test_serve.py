"""`lstmkit serve`, started for real on 127.0.0.1 in its own process and spoken to over HTTP: the
same numbers as predict, one 422 entry per bad field, routes per run, and a bounded load test
(2,000 requests from 8 clients) with no error and no lost update."""

from __future__ import annotations

import concurrent.futures
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from helpers import synthetic
from lstmkit.forecast.estimator import Forecaster
from lstmkit.forecast.stream import Stream

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

SITES = tuple(f"s{k}" for k in range(8))
COLUMNS = dict(time="when", target="temp", series="site")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve")
    df = synthetic(n=300, series=SITES)
    for name, settings in (("temps", {"quantiles": [0.1, 0.9]}), ("plain", {})):
        fc = Forecaster(epochs=1, hidden_size=8, statistical="off", **settings)
        fc.fit(df, **COLUMNS, quiet=True).save(folder / name)
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "lstmkit", "serve", "--run", str(folder / "temps"),
            "--run", str(folder / "plain"), "--port", str(port),
            "--state-dir", str(folder / "state"),
        ],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the server did not start: {proc.stdout.read().decode()[-2000:]}")
        time.sleep(0.2)
    yield {"url": url, "folder": folder, "df": df}
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def rows_of(frame: pd.DataFrame) -> list[dict]:
    return [
        {"when": str(r.when), "site": r.site, "temp": float(r.temp), "wind": float(r.wind)}
        for r in frame.itertuples()
    ]


def test_health_model_and_openapi(server):
    url = server["url"]
    assert httpx.get(f"{url}/health").json() == {"status": "ok", "runs": ["temps", "plain"]}
    card = httpx.get(f"{url}/temps/model").json()
    assert card["columns"]["target"] == "temp" and card["quantiles"] == [0.1, 0.5, 0.9]
    assert "model" in card["metrics"]["test"]
    schema = httpx.get(f"{url}/openapi.json").json()
    assert {"/temps/predict", "/temps/update", "/plain/predict", "/health"} <= set(schema["paths"])
    assert httpx.post(f"{url}/predict", json={}).status_code == 404  # two runs: by name only


def test_predict_with_rows_gives_the_numbers_predict_gives(server):
    url, df = server["url"], server["df"]
    fc = Forecaster.load(server["folder"] / "temps")
    history = df[df.site.isin(["s1", "s2"])].iloc[:-10]
    answer = httpx.post(f"{url}/temps/predict", json={"rows": rows_of(history)}, timeout=30)
    assert answer.status_code == 200, answer.text
    got = pd.DataFrame(answer.json()["forecasts"])
    want = fc.predict(history)
    assert list(got.series) == list(want.series)
    for column in ("predicted", "q0.1", "q0.9"):
        np.testing.assert_allclose(got[column], want[column], rtol=0, atol=1e-9)
    assert (pd.to_datetime(got.time) == want.time).all()


def test_each_bad_field_is_its_own_422_entry(server):
    url = server["url"]
    bad = [{"when": "2030-01-01", "site": "s0", "temp": "warm", "wnd": 1.0}]
    answer = httpx.post(f"{url}/plain/update", json={"rows": bad})
    assert answer.status_code == 422
    found = {(tuple(e["loc"][-1:]), e["type"]) for e in answer.json()["detail"]}
    assert found == {
        (("temp",), "float_parsing"),
        (("wind",), "missing"),
        (("wnd",), "extra_forbidden"),
    }
    old = [{"when": "2020-01-01", "site": "s0", "temp": 1.0, "wind": 1.0}]
    answer = httpx.post(f"{url}/plain/update", json={"rows": old})
    assert answer.status_code == 422
    (entry,) = answer.json()["detail"]
    assert "is not after its last observation" in entry["msg"] and "\n" not in entry["msg"]
    nan = '{"rows": [{"when": "2030-01-01", "site": "s0", "temp": NaN, "wind": 1.0}]}'
    answer = httpx.post(
        f"{url}/plain/update", content=nan, headers={"content-type": "application/json"}
    )
    assert answer.status_code == 422


def test_load_many_clients_no_error_no_lost_update(server):
    """8 clients, 250 requests each, alternating an update of their own series (the next hour)
    and a forecast from the stored state; then every series has moved by its updates, in the
    answer and in the state file."""
    url, folder = server["url"], server["folder"]
    start = httpx.post(f"{url}/temps/predict", json={}).json()["forecasts"]
    origin = {r["series"]: pd.Timestamp(r["origin"]) for r in start}
    per_client, latencies, errors = 250, [], []

    def client(k: int):
        site, mine = SITES[k], []
        rng = np.random.default_rng(k)
        with httpx.Client(timeout=30) as http:
            for j in range(per_client):
                began = time.perf_counter()
                if j % 2 == 0:
                    when = origin[site] + pd.Timedelta(hours=j // 2 + 1)
                    row = {"when": str(when), "site": site, "temp": float(10 + rng.normal()),
                           "wind": float(rng.normal())}  # fmt: skip
                    answer = http.post(f"{url}/temps/update", json={"rows": [row]})
                else:
                    answer = http.post(f"{url}/temps/predict", json={})
                mine.append(time.perf_counter() - began)
                if answer.status_code != 200:
                    errors.append((k, j, answer.status_code, answer.text[:200]))
        return mine

    began = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(len(SITES)) as pool:
        for mine in pool.map(client, range(len(SITES))):
            latencies += mine
    seconds = time.perf_counter() - began
    assert not errors, errors[:3]
    assert len(latencies) == per_client * len(SITES)
    ms = np.array(latencies) * 1000
    print(
        f"\n{len(ms)} requests from {len(SITES)} clients in {seconds:.1f} s: "
        f"{len(ms) / seconds:.0f}/s, p50 {np.percentile(ms, 50):.1f} ms, "
        f"p99 {np.percentile(ms, 99):.1f} ms"
    )
    moved = pd.Timedelta(hours=per_client // 2)
    end = httpx.post(f"{url}/temps/predict", json={}).json()["forecasts"]
    assert {r["series"]: pd.Timestamp(r["origin"]) for r in end} == {
        s: origin[s] + moved for s in SITES
    }
    fc = Forecaster.load(folder / "temps")
    on_disk = Stream.load(folder / "state" / "temps.safetensors", fc).frame(fc)
    assert dict(zip(on_disk.series, on_disk.origin, strict=True)) == {
        s: origin[s] + moved for s in SITES
    }
    got = pd.DataFrame(end)
    np.testing.assert_allclose(got.predicted, on_disk.predicted, rtol=0, atol=1e-9)


def test_an_update_whose_state_file_cannot_be_written_is_undone(server, tmp_path):
    """Not written, so not acknowledged (HTTP 503), so not kept: memory stays what the file
    holds. Here a folder stands where the state file goes, so the rename onto it fails."""
    from lstmkit.serve import Served

    served = Served(server["folder"] / "plain", tmp_path)
    served.state_path.mkdir()
    frame = served.fc.stream.frame(served.fc)
    last = frame[frame.series == "s0"].origin.iloc[0]
    row = {"when": str(last + pd.Timedelta(hours=1)), "site": "s0", "temp": 1.0, "wind": 0.0}
    with pytest.raises(OSError):
        served.update([row])
    pd.testing.assert_frame_equal(served.fc.stream.frame(served.fc), frame)
    served.state_path.rmdir()
    answer = served.update([row])  # the same row, once the file can be written
    assert [r["series"] for r in answer["forecasts"]] == ["s0"]
    assert (
        Stream.load(served.state_path, served.fc)
        .frame(served.fc)
        .equals(served.fc.stream.frame(served.fc))
    )
