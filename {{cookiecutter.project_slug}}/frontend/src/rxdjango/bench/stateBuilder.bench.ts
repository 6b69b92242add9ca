// Benchmarks of the state builder. Run them with `npx vitest bench --run src/rxdjango/bench`.
// `npm test` does not run them. Each iteration of an "updates" case applies 10,000
// updates, one per batch as live changes arrive, so its mean time is the cost of all 10,000.
import { bench, describe } from 'vitest';

import { StateBuilder } from '../stateBuilder';
import { COMMENT, PROJECT, TAG, TASK, USER, projectModel } from '../test/projectFixture';
import type { FlatInstance } from '../types';

const TASKS = 100;
const COMMENTS_PER_TASK = 98;
const USERS = 79;
const TAGS = 20;
const UPDATES = 10_000;

function flat(type: string, id: number, fields: Record<string, unknown>): FlatInstance {
  return { id, _instance_type: type, _tstamp: 1, _operation: 'initial_state', ...fields };
}

/** Returns a project of 10,000 instances: 100 tasks of 98 comments each, 79 users and 20 tags. */
function deepProject(): FlatInstance[] {
  const instances: FlatInstance[] = [];
  const taskIds = Array.from({ length: TASKS }, (_, index) => 1000 + index);
  const tagIds = Array.from({ length: TAGS }, (_, index) => 100 + index);
  instances.push(flat(PROJECT, 1, { name: 'Project', owner: 1, tasks: taskIds, tags: tagIds }));

  for (let user = 1; user <= USERS; user += 1) {
    instances.push(flat(USER, user, { username: `user${user}` }));
  }
  for (const tag of tagIds) {
    instances.push(flat(TAG, tag, { name: `tag${tag}` }));
  }
  taskIds.forEach((taskId, taskIndex) => {
    const commentIds = Array.from(
      { length: COMMENTS_PER_TASK },
      (_, index) => taskId * 1000 + index,
    );
    instances.push(
      flat(TASK, taskId, {
        title: `Task ${taskId}`,
        done: false,
        assignee: (taskIndex % USERS) + 1,
        comments: commentIds,
        tags: [tagIds[taskIndex % TAGS]],
      }),
    );
    commentIds.forEach((commentId, index) => {
      instances.push(
        flat(COMMENT, commentId, { text: `Comment ${commentId}`, author: (index % USERS) + 1 }),
      );
    });
  });
  return instances;
}

/** Returns a project whose 9,999 tasks hang directly from it, so every update copies a list of 9,999. */
function wideProject(): FlatInstance[] {
  const taskIds = Array.from({ length: 9_999 }, (_, index) => 1000 + index);
  return [
    flat(PROJECT, 1, { name: 'Project', owner: null, tasks: taskIds, tags: [] }),
    ...taskIds.map((id) =>
      flat(TASK, id, { title: `Task ${id}`, done: false, assignee: null, comments: [], tags: [] }),
    ),
  ];
}

function loaded(instances: FlatInstance[]): StateBuilder {
  const builder = new StateBuilder(projectModel);
  builder.setAnchors([1]);
  builder.applyInstances(instances);
  return builder;
}

const deepInstances = deepProject();
const wideInstances = wideProject();
const commentIds = deepInstances
  .filter((instance) => instance._instance_type === COMMENT)
  .map((instance) => instance.id);
const taskIds = wideInstances
  .filter((instance) => instance._instance_type === TASK)
  .map((instance) => instance.id);

/** Applies 10,000 deltas, each in its own batch, to instances picked from `ids` with a fixed stride. */
function applyUpdates(
  builder: StateBuilder,
  type: string,
  ids: readonly (number | string)[],
  field: string,
): void {
  for (let index = 0; index < UPDATES; index += 1) {
    const tstamp = performance.now() + 2;
    const id = ids[(index * 7919) % ids.length] ?? 0;
    builder.applyInstances([
      { id, _instance_type: type, _tstamp: tstamp, _operation: 'update', [field]: `v${tstamp}` },
    ]);
  }
}

describe('StateBuilder, 10,000 instances', () => {
  bench('full rebuild (deep project)', () => {
    loaded(deepInstances);
  });

  const deep = loaded(deepInstances);
  bench('10,000 comment updates (deep project)', () => {
    applyUpdates(deep, COMMENT, commentIds, 'text');
  });

  const shared = loaded(deepInstances);
  bench('10,000 user updates (deep project, shared users)', () => {
    applyUpdates(
      shared,
      USER,
      Array.from({ length: USERS }, (_, index) => index + 1),
      'username',
    );
  });

  bench('full rebuild (wide project)', () => {
    loaded(wideInstances);
  });

  const wide = loaded(wideInstances);
  bench('10,000 task updates (wide project)', () => {
    applyUpdates(wide, TASK, taskIds, 'title');
  });
});
