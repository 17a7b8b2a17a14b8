"""The grid map's costs per message: locating a point, finding the gazetteer's places in a text.

    .venv/bin/python benchmarks/bench_countymap.py [--grids 1000] [--places 20]

A synthetic county the size of a real one (default 1,000 grids of ~20 places: 20,000 names; 诸城 has about that
many grids) next to the demo county (data/county.yaml). Each part runs in a fresh interpreter so that its memory
is its own: RSS is the child's VmRSS after building minus before (imports done), and ``peak`` its VmHWM.

* **scan** — bot/gazetteer.py (a two-character prefix index over the normalised names, as GridMap builds it): what the bot
  uses;
* **jieba-gazetteer** — the issue's other idea: a ``jieba.Tokenizer`` whose only dictionary is the gazetteer,
  ``lcut(text, HMM=False)``, then the tokens that are names;
* **jieba-main** — for scale: jieba's own main dictionary initialised (what the bot must not load);
* **locate** — ``GridMap.locate`` on random points inside, near and far from the grids.

Times are the best of 5 rounds over 1,000 messages (or 10,000 points), single core.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FILLER = ("楼下烧烤店油烟太大晚上吵得睡不着路灯坏了一个星期没人修垃圾桶满了三天没人清运下水道堵了污水漫到路上"
          "小区门口占道经营堵住消防通道工地夜间施工噪音扰民有人私搭乱建违章建筑电动车乱停放井盖丢失很危险")
SUFFIXES = ("小区", "家园", "花园", "村", "路", "街", "大街", "东段", "西段", "菜市场", "小学", "中学", "幼儿园", "广场")
CHARS = "金银福寿安康和平幸兴华龙凤阳光明新东西南北中山水湖河泉林松柏桃李杏梅兰竹德利丰盛昌隆泰顺"


def synthetic(grids: int, places: int, seed: int = 0) -> tuple[list, list[str]]:
    """(grid entries as (code, boundary, places), 1,000 messages of ~50 characters, half naming a place)."""
    rng = random.Random(seed)
    side = 0.005  # ~450 × 560 m
    columns = int(grids**0.5) + 1
    entries, names = [], []
    for n in range(grids):
        lon, lat = 119.2 + (n % columns) * side, 35.8 + (n // columns) * side
        ring = [[lon, lat], [lon + side, lat], [lon + side, lat + side], [lon, lat + side], [lon, lat]]
        own = sorted({"".join(rng.choices(CHARS, k=rng.randint(1, 3))) + rng.choice(SUFFIXES) for _ in range(places)})
        entries.append((f"g{n:04d}", {"type": "Polygon", "coordinates": [ring]}, own))
        names += own
    messages = []
    for n in range(1000):
        start = rng.randrange(len(FILLER) - 50)
        text = FILLER[start : start + 50]
        if n % 2:
            cut = rng.randrange(50)
            text = text[:cut] + rng.choice(names) + text[cut:]
        messages.append(text)
    return entries, messages


def rss() -> tuple[float, float]:
    """(VmRSS, VmHWM) of this process in MB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def best_of(call, items, rounds: int = 5) -> float:
    """Seconds per item, the best of ``rounds`` passes."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for item in items:
            call(item)
        best = min(best, (time.perf_counter() - start) / len(items))
    return best


def part(name: str, grids: int, places: int) -> dict:
    import jieba

    from bot.countymap import GridEntry, GridMap
    from bot.gazetteer import normalise

    jieba.setLogLevel(60)
    entries, messages = synthetic(grids, places)
    before, _ = rss()
    start = time.perf_counter()
    if name == "scan":
        gazetteer = GridMap([GridEntry(code, None, tuple(own)) for code, _, own in entries])
        built = time.perf_counter() - start
        per_message = best_of(gazetteer.places_in, messages)
        found = sum(bool(gazetteer.places_in(m)) for m in messages)
    elif name == "jieba-gazetteer":
        known = {normalise(p) for _, _, own in entries for p in own}
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
            f.write("".join(f"{word} 1000\n" for word in sorted(known)))
        tokenizer = jieba.Tokenizer(dictionary=f.name)
        tokenizer.initialize()
        built = time.perf_counter() - start

        def cut(text: str) -> list[str]:
            return [token for token in tokenizer.lcut(normalise(text), HMM=False) if token in known]

        per_message = best_of(cut, messages)
        found = sum(bool(cut(m)) for m in messages)
    elif name == "jieba-main":
        jieba.initialize()
        built, per_message, found = time.perf_counter() - start, float("nan"), 0
    else:  # locate
        county = GridMap([GridEntry(code, boundary, ()) for code, boundary, _ in entries])
        built = time.perf_counter() - start
        rng = random.Random(1)
        points = [(35.8 + rng.uniform(-0.02, 0.2), 119.2 + rng.uniform(-0.02, 0.2)) for _ in range(10_000)]
        per_message = best_of(lambda p: county.locate(*p), points)
        found = sum(county.locate(*p) is not None for p in points)
    after, peak = rss()
    return {"part": name, "build_s": round(built, 3), "per_message_us": round(per_message * 1e6, 1),
            "rss_mb": round(after - before, 1), "peak_mb": round(peak, 1), "found": found}


def demo_locate() -> float:
    """µs per locate on the demo county, points all over it."""
    import yaml

    from bot.countymap import GridMap

    demo = GridMap.from_county(yaml.safe_load((ROOT / "data" / "county.yaml").read_text(encoding="utf-8")))
    rng = random.Random(2)
    points = [(rng.uniform(35.96, 36.12), rng.uniform(119.29, 119.46)) for _ in range(10_000)]
    return round(best_of(lambda p: demo.locate(*p), points) * 1e6, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--grids", type=int, default=1000)
    parser.add_argument("--places", type=int, default=20)
    parser.add_argument("--part", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:
        print(json.dumps(part(args.part, args.grids, args.places)))
        return
    for name in ("scan", "jieba-gazetteer", "jieba-main", "locate"):
        done = subprocess.run([sys.executable, __file__, "--part", name, "--grids", str(args.grids),
                               "--places", str(args.places)], capture_output=True, text=True, check=True)
        print(done.stdout.strip())
    print(json.dumps({"part": "locate, demo county", "per_message_us": demo_locate()}))


if __name__ == "__main__":
    main()
