"""Live library updates over real HTTP: a running serve.py swaps in a new index version with no failed request,
then filters by report and year and compares across years; a damaged new version is refused and logged."""

import json
import shutil
import subprocess
import sys
import threading
import time

import pytest
import requests

from conftest import REPORT, ROOT
from conftest import start_server, stop_server

FIVE_G = "今年新增5G基站多少座"


@pytest.fixture(scope="module")
def live(real_index, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("live")
    index = tmp / "index"
    shutil.copytree(real_index, index)
    base, proc, log = start_server(index, tmp, "--no-log")
    yield base, index, tmp, log
    stop_server(proc, log)


def health(base):
    return requests.get(base + "/api/health", timeout=10).json()


def test_live_swap_under_load_then_filters_and_compare(live):
    base, index, tmp, _ = live
    before = health(base)
    assert before["documents"] == ["qinshui-2023"] and before["version"] >= 1
    copy = tmp / "qinshui-2024.txt"
    copy.write_text(REPORT.read_text(encoding="utf-8").replace("2023年2月21日", "2024年2月20日")
                    .replace("新增 5G 基站 65 座", "新增 5G 基站 80 座"), encoding="utf-8")
    queries = ["教育方面有哪些安排", "停车难怎么解决", "13710", "乙类乙管", FIVE_G, "去年GDP多少"]
    failures, done, stop = [], [0], threading.Event()

    def client(n):
        while not stop.is_set():
            q = queries[(done[0] + n) % len(queries)]
            try:
                r = requests.get(base + "/api/search", params={"q": q, "k": 3}, timeout=60)
                if r.status_code != 200 or not r.json()["results"]:
                    failures.append((q, r.status_code, r.text[:200]))
            except requests.RequestException as e:
                failures.append((q, "exception", str(e)))
            done[0] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    try:
        p = subprocess.run([sys.executable, "ingest.py", "add", str(copy), "--index-dir", str(index), "--quiet"],
                           cwd=ROOT, capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, p.stderr
        assert "added qinshui-2024" in p.stdout
        written = time.time()
        while health(base)["version"] == before["version"] and time.time() - written < 30:
            time.sleep(0.2)
        swapped_after = time.time() - written
        time.sleep(1.0)  # a few more requests on the new version
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=120)
    after = health(base)
    # within a few of the watcher's 1 s checks plus the new version's load, while both slots serve the clients
    assert after["version"] == before["version"] + 1 and swapped_after < 15, swapped_after
    assert after["documents"] == ["qinshui-2023", "qinshui-2024"]
    assert done[0] > 10 and failures == [], failures[:3]

    def top(**params):
        r = requests.get(base + "/api/search", params={"q": FIVE_G, "k": 1, **params}, timeout=60)
        assert r.status_code == 200, r.text
        return r.json()["results"][0]

    assert "80座" in top(doc="qinshui-2024")["text"] and "65座" in top(year="2023")["text"]
    assert top(doc="qinshui-2024")["doc_title"] == "沁水县2024年政府工作报告"
    r = requests.get(base + "/api/search", params={"q": FIVE_G, "doc": "nope"}, timeout=30)
    assert r.status_code == 400 and "qinshui-2023" in r.json()["error"] and "qinshui-2024" in r.json()["error"]
    r = requests.get(base + "/api/search", params={"q": FIVE_G, "year": "1999"}, timeout=30)
    assert r.status_code == 400 and "2024, 2023" in r.json()["error"]
    r = requests.get(base + "/api/search", params={"q": FIVE_G, "year": "last"}, timeout=30)
    assert r.status_code == 400
    c = requests.get(base + "/api/compare", params={"q": FIVE_G}, timeout=60).json()
    assert [x["doc"] for x in c["reports"]] == ["qinshui-2024", "qinshui-2023"]
    assert "80座" in c["reports"][0]["hit"]["text"] and "65座" in c["reports"][1]["hit"]["text"]
    nothing = requests.get(base + "/api/compare", params={"q": "火星移民计划的预算是多少"}, timeout=60).json()
    assert [x["hit"] for x in nothing["reports"]] == [None, None]


def test_a_damaged_new_version_is_refused_and_the_old_one_kept(live):
    base, index, _, log = live
    v = health(base)["version"]
    m = json.loads((index / "manifest.json").read_text(encoding="utf-8"))
    from reportsearch import store

    f = index / "dense.faiss"
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0x10
    f.write_bytes(bytes(data))
    m["version"] = v + 1
    m["manifest_sha256"] = store._manifest_digest(m)
    (index / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    deadline = time.time() + 60  # the watcher checks every second; wait until it has tried the new version
    while f"still serving version {v}" not in open(log.name, encoding="utf-8").read() and time.time() < deadline:
        log.flush()
        time.sleep(0.2)
    assert health(base)["version"] == v
    r = requests.get(base + "/api/search", params={"q": "教育方面有哪些安排"}, timeout=60)
    assert r.status_code == 200 and r.json()["results"]
    log.flush()
    text = open(log.name, encoding="utf-8").read()
    assert f"index version {v + 1}" in text and "dense.faiss is damaged" in text and f"still serving version {v}" in text
