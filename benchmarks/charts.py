"""Draw the charts of docs/performance.md from the benchmarks' ``--json`` results.

    python benchmarks/charts.py [--data DIR] [--out DIR] [--run [--runs N]]

Reads the results in ``--data`` (default: docs/assets/bench, where the results the published charts were drawn
from are kept, so a reader can check every number) and writes SVG files to ``--out`` (default: docs/assets):

* ``bench-decode.svg``   bench_decode.py, run with the C accelerator (decode-c.json) and with
  SHARDLINE_PURE_PYTHON=1 (decode-pure.json): decoding speed relative to Powertools' data classes;
* ``bench-batch.svg``    bench_batch.py, both paths (batch-c.json, batch-pure.json): time per record of
  ``process_batch`` and of Powertools' ``BatchProcessor``;
* ``bench-memory.svg``   bench_memory.py (memory-c.json): peak memory of a 10,000-record batch;
* ``bench-endpoint.svg`` bench_endpoint.py (endpoint.json): requests per second against moto's server.

A chart whose results are missing is skipped, with a note. ``--run`` first runs the benchmarks (bench_decode,
bench_batch and bench_memory on both codec paths; bench_filters, bench_endpoint, bench_store, bench_pipeline and
bench_remote once) and writes their results to ``--data``: that takes several minutes.
The same results always give the same SVG files, byte for byte.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "docs" / "assets" / "bench"
OUT = ROOT / "docs" / "assets"

# Okabe-Ito colours: told apart with any colour vision.
C_PATH = "#0072B2"
PURE_PATH = "#56B4E9"
BOTO3 = "#E69F00"
POWERTOOLS = "#7F7F7F"
MOTO = "#D55E00"

# The runs --run makes: result file, script, arguments, and whether it runs with SHARDLINE_PURE_PYTHON=1.
RUNS: list[tuple[str, str, list[str], bool]] = [
    ("decode-c.json", "bench_decode.py", ["--runs", "{runs}"], False),
    ("decode-pure.json", "bench_decode.py", ["--runs", "{runs}"], True),
    ("batch-c.json", "bench_batch.py", ["--runs", "{runs}"], False),
    ("batch-pure.json", "bench_batch.py", ["--runs", "{runs}"], True),
    ("memory-c.json", "bench_memory.py", [], False),
    ("memory-pure.json", "bench_memory.py", [], True),
    ("filters.json", "bench_filters.py", [], False),
    ("endpoint.json", "bench_endpoint.py", [], False),
    # Not drawn, but quoted on the page: kept beside the others.
    ("store.json", "bench_store.py", [], False),
    ("pipeline.json", "bench_pipeline.py", [], False),
    ("remote.json", "bench_remote.py", [], False),
]


def run_benchmarks(data: Path, runs: int) -> None:
    """Run every benchmark the charts need, one after the other, and keep its ``--json`` output."""
    data.mkdir(parents=True, exist_ok=True)
    for name, script, arguments, pure in RUNS:
        env = dict(os.environ)
        env.pop("SHARDLINE_PURE_PYTHON", None)
        if pure:
            env["SHARDLINE_PURE_PYTHON"] = "1"
        command = [sys.executable, str(Path(__file__).parent / script), *(a.format(runs=runs) for a in arguments)]
        print(f"running {' '.join(command[1:])}{' (pure Python)' if pure else ''}", flush=True)
        output = subprocess.run([*command, "--json"], check=True, capture_output=True, text=True, env=env).stdout
        json.loads(output)  # a whole JSON document, or stop here
        (data / name).write_text(output)


# -- drawing ---------------------------------------------------------------------------------------------


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        sys.exit('the charts need matplotlib: pip install matplotlib (or shardline\'s docs extra, ".[docs]")')

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "svg.fonttype": "none",  # text stays text: searchable, selectable, styled by the page's fonts
            "svg.hashsalt": "shardline-benchmarks",  # the same ids in every run: reproducible files
            "font.family": "sans-serif",
            "font.sans-serif": ["DejaVu Sans", "Helvetica", "Arial"],
            "font.size": 10,
            "axes.titlesize": 11,
            "axes.titleweight": "bold",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "figure.facecolor": "white",
            "axes.facecolor": "white",
            "savefig.facecolor": "white",
        }
    )
    return plt


def _load(data: Path, name: str) -> dict[str, Any] | None:
    path = data / name
    if not path.exists():
        return None
    answer: dict[str, Any] = json.loads(path.read_text())
    return answer


def machine(result: dict[str, Any]) -> str:
    """The caption's line about where the numbers come from."""
    env = result.get("environment")
    if not env:
        return "machine not recorded"
    cpus = f"{env['cpus']} cores" if env.get("cpus") else "cores unknown"
    return (
        f"{env['implementation']} {env['python']}, {env['system']}, {env['cpu']} ({cpus}, shared); measured"
        f" {env['date']}"
    )


def versions(result: dict[str, Any], *packages: str) -> str:
    found = result.get("environment", {}).get("versions", {})
    return ", ".join(f"{package} {found[package]}" for package in packages if found.get(package))


def _caption(fig: Any, lines: Sequence[str]) -> None:
    """Small text under the axes, wrapped to the figure's width; the axes make room for it."""
    width, height = fig.get_size_inches()
    text = "\n".join(textwrap.fill(line, width=int(width * 13), break_on_hyphens=False) for line in lines)
    fig.text(0.01, 0.015, text, fontsize=9.5, color="#444444", ha="left", va="bottom", linespacing=1.5)
    fig.subplots_adjust(bottom=(0.2 * (text.count("\n") + 1) + 0.6) / height)


def _save(fig: Any, plt: Any, path: Path) -> None:
    fig.savefig(path, format="svg", metadata={"Date": None})  # no date in the file: reproducible
    plt.close(fig)
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def _iqr(spread: dict[str, float]) -> tuple[float, float]:
    """Error bar lengths below and above the median: the interquartile range."""
    return spread["median"] - spread["q1"], spread["q3"] - spread["median"]


Row = tuple[str, float, "tuple[float, float] | None", str, str]


def _hbars(
    ax: Any,
    rows: Sequence[Row],
    *,
    limit: float,
) -> None:
    """Horizontal bars, top to bottom: (label, value, error below/above or None, colour, text after the bar)."""
    positions = list(range(len(rows)))[::-1]
    for position, (_, value, error, colour, note) in zip(positions, rows, strict=True):
        xerr = None if error is None else [[error[0]], [error[1]]]
        ax.barh(position, value, color=colour, height=0.62, xerr=xerr, capsize=3, error_kw={"elinewidth": 1})
        end = value + (error[1] if error else 0)
        ax.text(end + limit * 0.012, position, note, va="center", fontsize=9)
    ax.set_yticks(positions, [row[0] for row in rows])
    ax.tick_params(axis="y", length=0)
    ax.set_xlim(0, limit)


def decode_chart(plt: Any, c_path: dict[str, Any], pure: dict[str, Any], out: Path) -> None:
    fig, (full_ax, one_ax) = plt.subplots(2, 1, figsize=(8.4, 5.6), height_ratios=[4, 3])
    fig.subplots_adjust(left=0.27, right=0.97, top=0.9, hspace=0.55)
    fig.suptitle(
        "Decoding DynamoDB stream records: shardline, boto3 and Powertools",
        fontsize=12,
        fontweight="bold",
        x=0.01,
        ha="left",
    )
    us = "µs/record"

    def row(label: str, result: dict[str, Any], ratio: str, time_key: str, color: str, places: tuple[int, int]) -> Row:
        paired = result["paired"][ratio]
        text = f"{paired['median']:.{places[0]}f}x ({result[time_key]:.{places[1]}f} {us})"
        return (label, paired["median"], _iqr(paired), color, text)

    full_rows = [
        row("shardline (C accelerator)", c_path, "full_vs_powertools", "shardline_full_us", C_PATH, (2, 1)),
        row("shardline (pure Python)", pure, "full_vs_powertools", "shardline_full_us", PURE_PATH, (2, 1)),
        row("boto3 TypeDeserializer", c_path, "boto3_vs_powertools", "boto3_full_us", BOTO3, (2, 1)),
        ("Powertools data classes", 1.0, None, POWERTOOLS, f"1x ({c_path['powertools_full_us']:.1f} {us})"),
    ]
    top = max(row[1] + (row[2][1] if row[2] else 0) for row in full_rows)
    _hbars(full_ax, full_rows, limit=top * 1.45)
    full_ax.set_title("Both images of every record decoded fully", loc="left")
    full_ax.set_xlabel("speed relative to Powertools (higher is faster)")
    one_rows = [
        row("shardline (C accelerator)", c_path, "one_vs_powertools", "shardline_one_us", C_PATH, (1, 2)),
        row("shardline (pure Python)", pure, "one_vs_powertools", "shardline_one_us", PURE_PATH, (1, 2)),
        ("Powertools data classes", 1.0, None, POWERTOOLS, f"1x ({c_path['powertools_one_us']:.1f} {us})"),
    ]
    top = max(row[1] + (row[2][1] if row[2] else 0) for row in one_rows)
    _hbars(one_ax, one_rows, limit=top * 1.45)
    one_ax.set_title("One NewImage attribute read from every record", loc="left")
    one_ax.set_xlabel("speed relative to Powertools (higher is faster)")
    for ax in (full_ax, one_ax):
        ax.axvline(1.0, color=POWERTOOLS, linewidth=0.8, linestyle="--")
    _caption(
        fig,
        [
            f"{c_path['records']:,} MODIFY records (NEW_AND_OLD_IMAGES, 13 attributes), one process. Bars: median of"
            f" {c_path['runs']} shuffled rounds of the per-round ratio Powertools time / contender time;"
            " error bars: interquartile range.",
            f"Pure Python: a separate run with SHARDLINE_PURE_PYTHON=1 ({pure['runs']} rounds)."
            f" {versions(c_path, 'shardline', 'aws-lambda-powertools', 'boto3')}.",
            machine(c_path) + ".",
        ],
    )
    _save(fig, plt, out / "bench-decode.svg")


def batch_chart(plt: Any, c_path: dict[str, Any], pure: dict[str, Any], out: Path) -> None:
    fig, ax = plt.subplots(figsize=(8.4, 5.0))
    fig.subplots_adjust(left=0.27, right=0.97, top=0.88)
    fig.suptitle(
        "A batch of stream records: shardline's process_batch and Powertools' BatchProcessor",
        fontsize=12,
        fontweight="bold",
        x=0.01,
        ha="left",
    )
    kinds = [
        ("noop", "no-op handler\n(the runner alone)"),
        ("one", "handler reads one\nNewImage attribute"),
        ("full", "handler reads both\nimages fully"),
    ]
    contenders = [
        ("process_batch (C accelerator)", c_path, "shardline", C_PATH),
        ("process_batch (pure Python)", pure, "shardline", PURE_PATH),
        ("Powertools BatchProcessor", c_path, "powertools", POWERTOOLS),
    ]
    height = 0.26
    limit = max(c_path["spread_us"][f"powertools_{kind}_us"]["q3"] for kind, _ in kinds) * 1.4
    centres = list(range(len(kinds)))[::-1]
    for centre, (kind, _) in zip(centres, kinds, strict=True):
        for index, (label, result, who, colour) in enumerate(contenders):
            position = centre + height * (1 - index)
            spread = result["spread_us"][f"{who}_{kind}_us"]
            value = result[f"{who}_{kind}_us"]
            ax.barh(
                position,
                value,
                height=height * 0.92,
                color=colour,
                xerr=[[value - spread["q1"]], [spread["q3"] - value]],
                capsize=2.5,
                error_kw={"elinewidth": 1},
                label=label if centre == centres[0] else None,
            )
            note = f"{value:.2f} µs" if value < 10 else f"{value:.1f} µs"
            if who == "shardline":
                note += f", {result['paired'][f'{kind}_vs_powertools']['median']:.1f}x faster"
            ax.text(spread["q3"] + limit * 0.012, position, note, va="center", fontsize=8.5)
    ax.set_yticks(centres, [title for _, title in kinds])
    ax.tick_params(axis="y", length=0)
    ax.set_xlim(0, limit)
    ax.set_xlabel("time per record, µs (lower is faster)")
    ax.legend(loc="upper right", frameon=False, fontsize=9)
    _caption(
        fig,
        [
            f"{c_path['records']:,} MODIFY records, every record succeeding, a partial batch response returned."
            f" Bars: median of {c_path['runs']} shuffled rounds; error bars: interquartile range.",
            "Ratios: median of the per-round ratios Powertools time / shardline time."
            " Pure Python: a separate run with SHARDLINE_PURE_PYTHON=1."
            f" {versions(c_path, 'shardline', 'aws-lambda-powertools')}.",
            machine(c_path) + ".",
        ],
    )
    _save(fig, plt, out / "bench-batch.svg")


MEMORY_ROWS = [
    ("shardline_batch", "shardline process_batch", C_PATH),
    ("shardline_iterate", "shardline StreamEvent loop", C_PATH),
    ("shardline_async", "shardline aprocess_batch", C_PATH),
    ("powertools_batch", "Powertools BatchProcessor", POWERTOOLS),
    ("powertools_iterate", "Powertools DynamoDBStreamEvent", POWERTOOLS),
    ("boto3", "boto3 TypeDeserializer", BOTO3),
]


def memory_chart(plt: Any, result: dict[str, Any], out: Path) -> None:
    fig, (traced, rss) = plt.subplots(1, 2, figsize=(10.0, 4.8), sharey=True)
    fig.subplots_adjust(left=0.285, right=0.97, top=0.82, wspace=0.1)
    large = f"{result['large']:,}"
    fig.suptitle(
        f"Memory of a {large}-record batch, every image decoded fully: shardline, Powertools and boto3",
        fontsize=12,
        fontweight="bold",
        x=0.01,
        ha="left",
    )
    positions = list(range(len(MEMORY_ROWS)))[::-1]
    peak_limit = max(result[name]["large_traced_peak_mb"]["max"] for name, _, _ in MEMORY_ROWS) * 1.3
    rss_limit = max(result[name]["large_peak_rss_mb"]["max"] for name, _, _ in MEMORY_ROWS) * 1.3
    most_added = max(result[name]["large_rss_added_mb"]["median"] for name, _, _ in MEMORY_ROWS)
    for position, (name, _, colour) in zip(positions, MEMORY_ROWS, strict=True):
        row = result[name]
        peak = row["large_traced_peak_mb"]
        traced.barh(
            position,
            peak["median"],
            height=0.62,
            color=colour,
            xerr=[[peak["median"] - peak["min"]], [peak["max"] - peak["median"]]],
            capsize=3,
        )
        traced.text(peak["max"] + peak_limit * 0.015, position, f"{peak['median']:.2f} MB", va="center", fontsize=9)
        total, added = row["large_peak_rss_mb"]["median"], row["large_rss_added_mb"]["median"]
        rss.barh(position, total, height=0.62, color=colour, alpha=0.55)
        note = f"{total:.0f} MB" + (f" (+{added:.0f} MB in the batch)" if added >= 0.5 else "")
        rss.text(total + rss_limit * 0.015, position, note, va="center", fontsize=9)
    traced.set_yticks(positions, [title for _, title, _ in MEMORY_ROWS])
    traced.tick_params(axis="y", length=0)
    traced.set_xlim(0, peak_limit)
    traced.set_title("Peak over the loaded event (tracemalloc)", loc="left", fontsize=10)
    traced.set_xlabel("MB (lower is better)")
    rss.set_xlim(0, rss_limit)
    rss.set_title("Peak RSS of a fresh process", loc="left", fontsize=10)
    rss.set_xlabel("MB (lower is better)")
    path = "C accelerator" if result.get("environment", {}).get("speedups_enabled") else "pure Python codec"
    where = (
        f"the batch added at most {most_added:.0f} MB to the peak reached while the event was loaded"
        if most_added >= 0.5
        else "every peak was reached while the event was loaded: the batches added nothing to it"
    )
    _caption(
        fig,
        [
            f"shardline with its {path}. Left: the highest memory in use while the batch ran, over what the loaded"
            f" event already held; median of {result['rounds']} rounds, bars from min to max.",
            f"Right: peak RSS (what Lambda reports as Max Memory Used) of a fresh interpreter that loads the event"
            f" and runs the batch once; {where}. boto3's is higher because its binaries are decoded beforehand."
            f" {versions(result, 'shardline', 'aws-lambda-powertools', 'boto3')}.",
            machine(result) + ".",
        ],
    )
    _save(fig, plt, out / "bench-memory.svg")


OPERATIONS = [
    ("PutItem", "PutItem"),
    ("GetItem", "GetItem"),
    ("UpdateItem", "UpdateItem with a condition"),
    ("Query", "Query (10 items a page)"),
]


def endpoint_chart(plt: Any, result: dict[str, Any], out: Path) -> None:
    fig, ax = plt.subplots(figsize=(8.4, 4.6))
    fig.subplots_adjust(left=0.25, right=0.97, top=0.82)
    fig.suptitle(
        "A local DynamoDB endpoint through boto3: shardline and moto's server",
        fontsize=12,
        fontweight="bold",
        x=0.01,
        ha="left",
    )
    throughput = result["throughput"]
    limit = (
        max(
            row.get("spread", {}).get("shardline_per_second", {}).get("q3", row["shardline_per_second"])
            for row in throughput.values()
        )
        * 1.75
    )
    height = 0.36
    centres = list(range(len(OPERATIONS)))[::-1]
    for centre, (operation, _) in zip(centres, OPERATIONS, strict=True):
        row = throughput[operation]
        for index, (who, label, colour) in enumerate((("shardline", "shardline", C_PATH), ("moto", "moto", MOTO))):
            position = centre + height * (0.5 - index)
            value = row[f"{who}_per_second"]
            spread = row.get("spread", {}).get(f"{who}_per_second")
            xerr = None if spread is None else [[value - spread["q1"]], [spread["q3"] - value]]
            ax.barh(
                position,
                value,
                height=height * 0.92,
                color=colour,
                xerr=xerr,
                capsize=2.5,
                label=label if centre == centres[0] else None,
            )
            note = f"{value:,.0f}/s"
            if who == "shardline":
                note += f", {row['ratio']:.1f}x moto's ({row['ratio_min']:.1f}-{row['ratio_max']:.1f})"
            end = spread["q3"] if spread else value
            ax.text(end + limit * 0.012, position, note, va="center", fontsize=9)
    ax.set_yticks(centres, [title for _, title in OPERATIONS])
    ax.tick_params(axis="y", length=0)
    ax.set_xlim(0, limit)
    ax.set_xlabel("requests per second, one at a time through one boto3 client (higher is faster)")
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2, frameon=False, fontsize=9, borderaxespad=0.3)
    rounds = result.get("rounds", "the")
    requests = result.get("requests")
    each = f" of {requests} requests" if requests else ""
    _caption(
        fig,
        [
            f"Bars: median of {rounds} shuffled rounds{each} per operation; error bars: interquartile range."
            " Ratio: median of the per-round ratios (min-max).",
            "shardline: a file store, every write committed with its stream record; moto: ThreadedMotoServer,"
            f" stream enabled. {versions(result, 'shardline', 'moto', 'boto3')}.",
            machine(result) + ".",
        ],
    )
    _save(fig, plt, out / "bench-endpoint.svg")


def draw(plt: Any, data: Path, out: Path) -> int:
    """Draw every chart whose results are in ``data``; the number drawn."""
    out.mkdir(parents=True, exist_ok=True)
    drawn = 0
    charts: list[tuple[str, tuple[str, ...], Any]] = [
        ("bench-decode.svg", ("decode-c.json", "decode-pure.json"), decode_chart),
        ("bench-batch.svg", ("batch-c.json", "batch-pure.json"), batch_chart),
        ("bench-memory.svg", ("memory-c.json",), memory_chart),
        ("bench-endpoint.svg", ("endpoint.json",), endpoint_chart),
    ]
    for name, sources, chart in charts:
        results = [_load(data, source) for source in sources]
        if all(results):
            chart(plt, *results, out)
            drawn += 1
        else:
            print(f"skipped {name}: needs {' and '.join(sources)} in {data}")
    return drawn


def main() -> None:
    summary, _, rest = __doc__.partition("\n\n")
    parser = argparse.ArgumentParser(
        description=summary + "\n\n" + rest.partition("\n\n")[2].strip(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Without --run, only the charts are drawn, from the results already in --data.",
    )
    parser.add_argument(
        "--data", type=Path, default=DATA, metavar="DIR", help="folder of the results (default: docs/assets/bench)"
    )
    parser.add_argument(
        "--out", type=Path, default=OUT, metavar="DIR", help="folder the SVG files go to (default: docs/assets)"
    )
    parser.add_argument("--run", action="store_true", help="run the benchmarks first (minutes), writing to --data")
    parser.add_argument(
        "--runs", type=int, default=51, metavar="N", help="rounds of bench_decode and bench_batch with --run"
    )
    args = parser.parse_args()
    plt = _pyplot()  # before any benchmark runs: a missing matplotlib is told at once
    if args.run:
        run_benchmarks(args.data, args.runs)
    if not draw(plt, args.data, args.out):
        sys.exit(f"no results in {args.data}: run the benchmarks with --json, or this script with --run")


if __name__ == "__main__":
    main()
