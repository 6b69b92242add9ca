// Measures the vendored state builder (src/rxdjango/stateBuilder.ts) in Node.
//
//   node scripts/bench-state-builder.js [--instances 10000] [--updates 10000]
//                                       [--repetitions 10] [--json]
//
// Node 20 cannot run TypeScript by itself. The script therefore first builds stateBuilder.ts
// to plain JavaScript with Vite, into a temporary folder: the code a browser runs, not
// minified. It then times four cases on a board of `--instances` flat instances:
//
// - rebuild: a new StateBuilder receives the whole initial state in one batch;
// - rebuild floor: JSON.parse of the same board as nested JSON text, the least work that
//   produces the nested objects;
// - updates: `--updates` deltas to comments, each applied as its own batch, the way live
//   changes arrive, on a builder that contains the board;
// - updates floor: the same deltas merged into a Map of flat instances, with no nesting.
//
// Each case runs twice to warm up, then `--repetitions` times. With --json the script
// prints one JSON object with every sample in milliseconds; without it, a text summary.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import { build } from 'vite';

const FRONTEND_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
const WARMUP_RUNS = 2;
const USERS = 11;
const COMMENTS_PER_TASK = 3;
// The board, its users, and one task with its comments.
const MIN_INSTANCES = 1 + USERS + 1 + COMMENTS_PER_TASK;

// Instance types of the backend benchmark app (backend/benchmarks/benchapp).
const BOARD = 'benchmarks.benchapp.serializers.BoardSerializer';
const TASK = 'benchmarks.benchapp.serializers.TaskSerializer';
const COMMENT = 'benchmarks.benchapp.serializers.CommentSerializer';
const USER = 'benchmarks.benchapp.serializers.UserSerializer';

const boardModel = {
  anchor: BOARD,
  many: false,
  layers: {
    [BOARD]: { owner: USER, tasks: TASK },
    [TASK]: { assignee: USER, comments: COMMENT },
    [COMMENT]: { author: USER },
    [USER]: {},
  },
  lists: {
    [BOARD]: ['tasks'],
    [TASK]: ['comments'],
  },
};

function parseOptions() {
  const { values } = parseArgs({
    options: {
      instances: { type: 'string', default: '10000' },
      updates: { type: 'string', default: '10000' },
      repetitions: { type: 'string', default: '10' },
      json: { type: 'boolean', default: false },
    },
  });
  const options = {
    instances: Number(values.instances),
    updates: Number(values.updates),
    repetitions: Number(values.repetitions),
    json: values.json,
  };
  for (const name of ['instances', 'updates', 'repetitions']) {
    if (!Number.isInteger(options[name]) || options[name] < 1) {
      throw new Error(`--${name} must be a positive integer, got ${values[name]}`);
    }
  }
  if (options.instances < MIN_INSTANCES) {
    throw new Error(`--instances must be at least ${MIN_INSTANCES}, got ${options.instances}`);
  }
  return options;
}

/** Builds stateBuilder.ts with Vite and imports the result; returns the StateBuilder class. */
async function loadStateBuilder() {
  const outDir = mkdtempSync(join(tmpdir(), 'rxdjango-bench-'));
  try {
    await build({
      configFile: false,
      root: FRONTEND_DIR,
      logLevel: 'silent',
      build: {
        ssr: 'src/rxdjango/stateBuilder.ts',
        outDir,
        emptyOutDir: true,
        minify: false,
        rollupOptions: { output: { format: 'es', entryFileNames: 'stateBuilder.mjs' } },
      },
    });
    const module = await import(pathToFileURL(join(outDir, 'stateBuilder.mjs')).href);
    return module.StateBuilder;
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

function keyOf(instance) {
  return `${instance._instance_type}:${instance.id}`;
}

function flat(type, id, fields) {
  return { id, _instance_type: type, _tstamp: 1, _operation: 'initial_state', ...fields };
}

/**
 * Returns the flat instances of a board with `size` of them: the board, 11 users (the
 * owner and the assignees, who also write the comments), and tasks with 3 comments each,
 * as the backend benchmark seeds it.
 */
function boardInstances(size) {
  const rows = size - 1 - USERS;
  const taskCount = Math.floor(rows / (COMMENTS_PER_TASK + 1));
  const commentCount = rows - taskCount;
  const taskIds = Array.from({ length: taskCount }, (_, index) => 1 + index);
  const commentsByTask = taskIds.map(() => []);
  const comments = [];
  for (let index = 0; index < commentCount; index += 1) {
    const id = 1 + index;
    commentsByTask[index % taskCount].push(id);
    comments.push(
      flat(COMMENT, id, {
        text: `comment ${id}`,
        created_at: '2026-01-01T00:00:00Z',
        author: 1 + (index % USERS),
      }),
    );
  }

  const instances = [flat(BOARD, 1, { name: 'Board', description: '', owner: 1, tasks: taskIds })];
  for (let user = 1; user <= USERS; user += 1) {
    instances.push(flat(USER, user, { username: `user${user}`, first_name: '', last_name: '' }));
  }
  taskIds.forEach((id, index) => {
    instances.push(
      flat(TASK, id, {
        title: `task ${id}`,
        status: 'todo',
        position: index,
        assignee: 1 + (index % USERS),
        comments: commentsByTask[index],
      }),
    );
  });
  return instances.concat(comments);
}

/** Returns the board as nested JSON text, the shape that the state builder produces. */
function nestedJson(instances) {
  const byKey = new Map(instances.map((instance) => [keyOf(instance), instance]));
  const find = (type, id) => byKey.get(keyOf({ _instance_type: type, id }));
  const user = (id) => find(USER, id);
  const board = find(BOARD, 1);
  const nested = {
    ...board,
    owner: user(board.owner),
    tasks: board.tasks.map((taskId) => {
      const task = find(TASK, taskId);
      return {
        ...task,
        assignee: user(task.assignee),
        comments: task.comments.map((commentId) => {
          const comment = find(COMMENT, commentId);
          return { ...comment, author: user(comment.author) };
        }),
      };
    }),
  };
  return JSON.stringify(nested);
}

/** Returns `count` deltas to comments, spread over the board with a prime stride. */
function commentDeltas(instances, count) {
  const ids = instances
    .filter((instance) => instance._instance_type === COMMENT)
    .map((instance) => instance.id);
  const deltas = [];
  for (let index = 0; index < count; index += 1) {
    const id = ids[(index * 7919) % ids.length];
    deltas.push({
      id,
      _instance_type: COMMENT,
      _tstamp: 2 + index,
      _operation: 'update',
      text: `edit ${index}`,
    });
  }
  return deltas;
}

function loadedBuilder(StateBuilder, instances) {
  const builder = new StateBuilder(boardModel);
  builder.setAnchors([1]);
  builder.applyInstances(instances);
  builder.markAnchorLoaded(1);
  if (builder.state === undefined) {
    throw new Error('no board state was built: check boardModel against the instances');
  }
  return builder;
}

/** Runs `prepare` then times `run` on its result; returns the samples in milliseconds. */
function measure(repetitions, prepare, run) {
  const samples = [];
  for (let index = 0; index < WARMUP_RUNS + repetitions; index += 1) {
    const input = prepare();
    const started = performance.now();
    run(input);
    const elapsed = performance.now() - started;
    if (index >= WARMUP_RUNS) {
      samples.push(elapsed);
    }
  }
  return samples;
}

function runCases(StateBuilder, options) {
  const instances = boardInstances(options.instances);
  const text = nestedJson(instances);
  const deltas = commentDeltas(instances, options.updates);
  const noInput = () => null;

  const rebuild = measure(options.repetitions, noInput, () =>
    loadedBuilder(StateBuilder, instances),
  );
  const rebuildFloor = measure(options.repetitions, noInput, () => JSON.parse(text));

  // Deltas carry increasing tstamps, so each repetition gets a builder that has not seen them.
  const updates = measure(
    options.repetitions,
    () => loadedBuilder(StateBuilder, instances),
    (builder) => {
      for (const delta of deltas) {
        builder.applyInstances([delta]);
        if (builder.state === undefined) {
          throw new Error('the board state is missing after an update');
        }
      }
    },
  );
  const updatesFloor = measure(
    options.repetitions,
    () => new Map(instances.map((instance) => [keyOf(instance), instance])),
    (store) => {
      for (const delta of deltas) {
        const key = keyOf(delta);
        store.set(key, { ...store.get(key), ...delta });
      }
    },
  );

  return {
    rebuild,
    rebuild_floor: rebuildFloor,
    updates,
    updates_floor: updatesFloor,
  };
}

function median(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function main() {
  const options = parseOptions();
  const StateBuilder = await loadStateBuilder();
  const samples = runCases(StateBuilder, options);
  const result = {
    node: process.version,
    instances: options.instances,
    updates: options.updates,
    repetitions: options.repetitions,
    samples,
  };
  if (options.json) {
    console.log(JSON.stringify(result));
    return;
  }
  const { instances, updates } = options;
  console.log(`State builder, ${instances} instances, ${updates} updates, Node ${process.version}`);
  for (const [name, values] of Object.entries(samples)) {
    const summary = `median ${median(values).toFixed(1)} ms over ${values.length} runs`;
    console.log(`${name.padEnd(14)} ${summary}`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
