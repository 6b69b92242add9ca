"""Scenario "client": the TypeScript state builder in Node, through frontend/scripts/bench-state-builder.js."""

import json
import shutil
import subprocess

from benchmarks.server import BACKEND_DIR
from benchmarks.stats import MILLISECONDS, Row, Section, Target

FRONTEND_DIR = BACKEND_DIR.parent / "frontend"
SCRIPT = FRONTEND_DIR / "scripts" / "bench-state-builder.js"
NODE_TIMEOUT = 600
UPDATES_TARGET = Target("≤ 500 ms", lambda summary, floor, baseline: summary.median <= 0.5)


def run_script(options):
    """Run the Node script and return its JSON result. Raises RuntimeError with the reason when it cannot run."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node was not found on PATH: install Node.js 20 or later")
    if not (FRONTEND_DIR / "node_modules" / "vite").is_dir():
        raise RuntimeError(f"vite is missing from {FRONTEND_DIR / 'node_modules'}: run `npm ci` in frontend/")
    command = [
        node,
        str(SCRIPT),
        "--json",
        f"--instances={options.client_instances}",
        f"--updates={options.client_updates}",
        f"--repetitions={options.client_repeat}",
    ]
    completed = subprocess.run(command, cwd=FRONTEND_DIR, capture_output=True, text=True, timeout=NODE_TIMEOUT)
    if completed.returncode != 0:
        raise RuntimeError(
            f"{SCRIPT.name} exited with status {completed.returncode}: {completed.stderr.strip()[-2000:]}"
        )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def run(bench):
    options = bench.options
    result = run_script(options)
    samples = {name: [value / 1000 for value in values] for name, values in result["samples"].items()}
    instances, updates = result["instances"], result["updates"]
    section = Section(
        "Client state builder",
        f"The vendored TypeScript `StateBuilder` in Node {result['node']}, built by Vite as the browser gets it "
        f"(not minified), on a board of {instances:,} flat instances. Updates: {updates:,} deltas to comments, "
        "each applied as its own batch as live changes arrive. Floor of updates: the same deltas merged into a "
        "Map of flat instances, without nesting. Rebuild: a new builder receives the whole state in one batch. "
        "Floor of rebuild: `JSON.parse` of the same board as nested JSON text.",
    )
    section.rows.append(
        Row(
            f"{updates:,} updates on {instances:,} instances",
            MILLISECONDS,
            samples["updates"],
            samples["updates_floor"],
            None,
            UPDATES_TARGET,
        )
    )
    section.rows.append(
        Row(f"full rebuild of {instances:,} instances", MILLISECONDS, samples["rebuild"], samples["rebuild_floor"])
    )
    section.notes.append("Each case runs twice untimed to let the JIT compile it before the timed runs.")
    return section
