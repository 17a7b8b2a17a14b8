"""What the command center's reports cost: rendering each chart type and writing a 20,000-row workbook.

    .venv/bin/python benchmarks/bench_reports.py [--rows 20000] [--rounds 5]

Each part runs in a fresh interpreter, so its memory is its own:
* **import** — the first use imports matplotlib (the bot starts without it: bot/reports imports it lazily);
* **first** — the first picture of the process (font file loaded, caches filled);
* **warm** — the best of `rounds` further pictures (what each /stats costs once the bot has drawn one);
* **traced peak** — tracemalloc's peak over one warm call (Python and numpy allocations; Agg's own C++ buffers
  are not traced, so VmHWM is given too);
* **VmHWM** — the child's peak resident memory, imports included.
The workbook: tickets-like rows (a number, 6 datetimes, Chinese department and matter names, a float, a long
text), written with bot/reports/workbook.py in openpyxl's write-only mode.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, sys, time, tracemalloc
sys.path.insert(0, {root!r})
part, rows, rounds = {part!r}, {rows}, {rounds}

def vmhwm_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0

def work():
    if part == "workbook":
        from datetime import UTC, datetime, timedelta
        from bot.reports.workbook import Sheet, workbook
        start = datetime(2026, 11, 1, tzinfo=UTC)
        depts = ["住建局", "城管局", "交通局", "龙都街道办事处", "水务公司", "市场监管局"]
        matters = ["路灯不亮", "占道经营", "噪音扰民", "垃圾清运不及时", "下水道堵塞", "违章建筑"]
        header = ["编号", "状态", "部门", "事项", "受理", "派单", "签收", "到场", "办结", "回访", "用时（小时）", "诉求"]
        data = []
        for i in range(rows):
            t = start + timedelta(minutes=7 * i)
            data.append([f"ZC-202611{{i % 28 + 1:02d}}-{{i:04d}}", "已办结", depts[i % 6], matters[i % 6], t,
                         t + timedelta(minutes=20), t + timedelta(hours=1), t + timedelta(hours=3),
                         t + timedelta(days=1), None if i % 3 else t + timedelta(days=2), 24.0 + i % 50 / 10,
                         "小区门口路灯坏了一个星期没人修，晚上出行很不方便，请尽快处理。" * 2])
        sheets = [Sheet("工单", header, data), Sheet("单位指标", ["单位", "按时办结率"], [[d, 0.9] for d in depts])]
        return lambda: workbook(sheets)
    from bot.reports import charts
    if part == "bar_chart":
        labels = ["住建局", "城管局", "交通局", "龙都街道", "水务公司", "市场监管局", "舜王街道", "密州街道"]
        return lambda: charts.bar_chart("按时办结率（本月）", labels, [92.5, 80.0, None, 100.0, 67.3, 88.8, 75.0, 90.1])
    if part == "ranking_chart":
        rows_ = [(f"单位{{i:02d}}", 100.0 - i * 2.5) for i in range(20)]
        return lambda: charts.ranking_chart("综合得分排名（本月）", rows_, unit="分")
    if part == "figures_card":
        figs = [("受理", "128"), ("及时签收率", "91.7%"), ("按时办结率", "88.2%"), ("满意率", "95.0%"),
                ("回访率", "82.0%"), ("响应时长（中位数）", "18分钟"), ("到场时长（P90）", "2.5小时"), ("督办", "3")]
        return lambda: charts.figures_card("今日概况 11月26日", figs)
    raise SystemExit(part)

t0 = time.perf_counter()
if part != "workbook":
    from bot.reports.fonts import mpl
    mpl()
imported = time.perf_counter() - t0
fn = work()
t0 = time.perf_counter(); out = fn(); first = time.perf_counter() - t0
best = min((lambda t: (fn(), time.perf_counter() - t)[1])(time.perf_counter()) for _ in range(rounds))
tracemalloc.start(); fn(); peak = tracemalloc.get_traced_memory()[1]; tracemalloc.stop()
print(json.dumps({{"part": part, "import_s": imported, "first_s": first, "warm_s": best, "bytes": len(out),
                  "traced_peak_mb": peak / 2**20, "vmhwm_mb": vmhwm_kb() / 1024}}))
"""


def run(part: str, rows: int, rounds: int) -> dict:
    code = CHILD.format(root=str(ROOT), part=part, rows=rows, rounds=rounds)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    print(f"| part | import s | first s | warm s (best of {args.rounds}) | output | traced peak MB | VmHWM MB |")
    print("|---|---|---|---|---|---|---|")
    for part in ("bar_chart", "ranking_chart", "figures_card", "workbook"):
        r = run(part, args.rows, args.rounds)
        name = f"workbook ({args.rows:,} rows)" if part == "workbook" else part
        print(f"| {name} | {r['import_s']:.2f} | {r['first_s']:.3f} | {r['warm_s']:.3f} | {r['bytes'] / 1024:.0f} KiB "
              f"| {r['traced_peak_mb']:.1f} | {r['vmhwm_mb']:.0f} |")


if __name__ == "__main__":
    main()
