"""Run the benchmarks: python -m benchmarks [--quick] [--only SCENARIO] [--output FILE]."""

import argparse
import logging
import resource
import sys
import tempfile
import time
import traceback
from pathlib import Path

SCENARIOS = ("load", "fanout", "writes", "client", "memory")

DESCRIPTION = """\
Measure rxdjango through a real daphne, Redis and MongoDB wire server with real WebSocket
clients, and print one Markdown table per scenario: median, p90 and p99 of the repetitions,
the ratio to a floor (the least a Channels app must do) and to a baseline (the usual
hand-written approach), and whether each target is met. Targets are reported, never asserted.

Run from backend/ with REDIS_URL and MONGO_URL set. The run uses a temporary SQLite
database, its own MongoDB database and Redis key prefix, and removes them at the end.
"""


def comma_separated_integers(text):
    try:
        values = [int(value) for value in text.split(",") if value.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid list of integers: {text!r}; write e.g. 1,100,500") from None
    if not values or any(value < 1 for value in values):
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def scenario_list(text):
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in SCENARIOS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown scenario {', '.join(unknown) or text!r}; choose from {', '.join(SCENARIOS)}"
        )
    return names


# Sizes of the default run, and of --quick. Options given on the command line win over both.
DEFAULTS = {
    "load_sizes": ([1000, 10000], [200, 1000]),
    "load_repeat": (7, 2),
    "fanout_clients": ([1, 100, 500], [1, 20]),
    "fanout_size": (100, 52),
    "fanout_repeat": (7, 2),
    "fanout_stream": (40, 8),
    "reference_stream": (10, 4),
    "stream_runs": (3, 1),
    "senders": (4, 2),
    "writers": ([1, 10], [1, 2]),
    "writes": (20, 3),
    "writes_board_size": (100, 52),
    "client_instances": (10000, 2000),
    "client_updates": (10000, 2000),
    "client_repeat": (10, 2),
    "memory_connections": (1000, 50),
    "memory_repeat": (3, 1),
    "memory_board_size": (52, 52),
}


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes and 1 to 2 repetitions: a smoke run of every scenario"
    )
    parser.add_argument(
        "--only",
        type=scenario_list,
        default=list(SCENARIOS),
        metavar="SCENARIO[,SCENARIO...]",
        help=f"scenarios to run, comma-separated, from: {', '.join(SCENARIOS)} (default: all)",
    )
    parser.add_argument("--output", type=Path, help="also write the report as a Markdown page to this file")
    parser.add_argument(
        "--load-sizes", type=comma_separated_integers, help="flat instances per board for 'load' (default 1000,10000)"
    )
    parser.add_argument("--load-repeat", type=int, help="repetitions of each 'load' case (default 7)")
    parser.add_argument(
        "--fanout-clients", type=comma_separated_integers, help="client counts for 'fanout' (default 1,100,500)"
    )
    parser.add_argument("--fanout-size", type=int, help="flat instances of the 'fanout' board (default 100)")
    parser.add_argument("--fanout-repeat", type=int, help="single saves timed per client count (default 7)")
    parser.add_argument("--fanout-stream", type=int, help="changes per stream of rxdjango in 'fanout' (default 40)")
    parser.add_argument(
        "--reference-stream", type=int, help="changes per stream of the slower 'fanout' floor and baseline (default 10)"
    )
    parser.add_argument("--stream-runs", type=int, help="streams per client count and variant (default 3)")
    parser.add_argument("--senders", type=int, help="threads that save or send during a stream (default 4)")
    parser.add_argument(
        "--writers", type=comma_separated_integers, help="concurrent writer counts for 'writes' (default 1,10)"
    )
    parser.add_argument("--writes", type=int, help="writes per writer (default 20)")
    parser.add_argument("--client-instances", type=int, help="flat instances of the 'client' board (default 10000)")
    parser.add_argument("--client-updates", type=int, help="updates applied in 'client' (default 10000)")
    parser.add_argument("--client-repeat", type=int, help="timed runs of each 'client' case (default 10)")
    parser.add_argument("--memory-connections", type=int, help="idle connections in 'memory' (default 1000)")
    parser.add_argument("--memory-repeat", type=int, help="runs of 'memory', each on a new daphne (default 3)")
    options = parser.parse_args(argv)

    for name, (default, quick) in DEFAULTS.items():
        if getattr(options, name, None) is None:
            setattr(options, name, quick if options.quick else default)
    for name, value in vars(options).items():
        if isinstance(value, int) and not isinstance(value, bool) and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    return options


def raise_open_file_limit():
    """Raise the open-file limit to the hard limit, so that thousands of sockets fit. Child processes inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def scenario_runner(name):
    from benchmarks import fanout, load, memory, statebuilder, writes

    return {
        "load": load.run,
        "fanout": fanout.run,
        "writes": writes.run,
        "client": statebuilder.run,
        "memory": memory.run,
    }[name]


def run_scenario(bench, name):
    """Run one scenario and return its Section. A failure becomes a section that explains it."""
    from benchmarks.stats import Section

    started = time.monotonic()
    try:
        section = scenario_runner(name)(bench)
    except Exception as error:
        traceback.print_exc()
        section = Section(f"Scenario {name}", f"**Failed**: {type(error).__name__}: {error}", failed=True)
        tail = bench.daphne_log_tail()
        if tail:
            print(f"\nThe end of the daphne log:\n{tail}", file=sys.stderr)
    section.notes.append(f"Scenario `{name}` took {time.monotonic() - started:.0f} s.")
    return section


def render_report(environment, sections, total_seconds):
    lines = [
        "# Benchmarks",
        "",
        "Written by `python -m benchmarks` in backend/, whose benchmarks/README.md explains each scenario "
        "and what bounds the results. "
        "Numbers depend on the machine and on what else runs on it.",
        "",
    ]
    lines += [f"- {label}: {value}" for label, value in environment]
    lines += [f"- total time: {total_seconds:.0f} s", ""]
    lines += [section.render(heading_level=2) for section in sections]
    return "\n".join(lines)


def main(argv=None):
    options = parse_arguments(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    raise_open_file_limit()
    started = time.monotonic()

    with tempfile.TemporaryDirectory(prefix="rxdjango-bench-") as workdir:
        from benchmarks.bench import Bench, setup_django

        setup_django(workdir)
        from benchmarks.environment import describe

        environment = describe()
        print("## rxdjango benchmarks\n")
        for label, value in environment:
            print(f"- {label}: {value}")
        print(flush=True)

        bench = Bench(options, workdir)
        sections = []
        try:
            for name in options.only:
                section = run_scenario(bench, name)
                print(section.render(), flush=True)
                sections.append(section)
        finally:
            bench.close()

    total = time.monotonic() - started
    print(f"Total time: {total:.0f} s")
    if options.output is not None:
        options.output.parent.mkdir(parents=True, exist_ok=True)
        options.output.write_text(render_report(environment, sections, total))
        print(f"Wrote {options.output}")
    return 1 if any(section.failed for section in sections) else 0


if __name__ == "__main__":
    sys.exit(main())
