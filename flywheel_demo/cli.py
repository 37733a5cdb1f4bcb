"""The command line: `python -m flywheel_demo --scale small --out seeds`."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from flywheel_demo.calendar import SCALES
from flywheel_demo.writing import generate_and_write

DESCRIPTION = """Write Flywheel's demo data: every raw table of models/sources.yml (Salesforce, Stripe, product
events, marketing) for a fictional B2B SaaS company over two years of history, in the shapes managed
connectors land them, from one funnel simulation. The same scale and seed write byte-identical files.
"""
EXAMPLES = """examples:
  python -m flywheel_demo --scale small --out seeds        the committed demo seeds (CSV)
  python -m flywheel_demo --scale medium --out /tmp/raw --format parquet
                                                           a benchmark scale; product events as a file per day
"""


def main(argv: list[str] | None = None, prog: str = "python -m flywheel_demo") -> int:
    """CLI entry point: generate one scale and write it."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description=DESCRIPTION,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--scale", choices=sorted(SCALES), default="small", help="data set size (default: small)")
    parser.add_argument("--out", type=Path, default=Path("seeds"), help="output folder (default: seeds)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv", help="file format (default: csv)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="1: the simulation writes each table itself; N > 1: N - 1 writer threads beside it (default: 1)",
    )
    args = parser.parse_args(argv)
    began = time.perf_counter()
    counts, paths = generate_and_write(
        SCALES[args.scale], args.seed, args.out, args.format, progress=not args.no_progress, workers=args.workers
    )
    done = time.perf_counter()
    rows = sum(counts.values())
    for (source, table), count in counts.items():
        print(f"{source}.{table}: {count:,} rows")
    size = sum(p.stat().st_size for p in paths)
    rate = rows / max(done - began, 1e-9)
    print(f"{rows:,} rows, {size / 1e6:.1f} MB in {args.out} ({done - began:.1f}s, {rate:,.0f} rows/s)")
    return 0
