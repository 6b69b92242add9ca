import { describe, expect, it } from 'vitest';

import { StateBuilder, type WriteMethods } from './stateBuilder';
import {
  COMMENT,
  PROJECT,
  TAG,
  TASK,
  USER,
  expectedProject,
  projectInstances,
  projectListModel,
  projectModel,
  type Project,
  type Task,
} from './test/projectFixture';
import {
  isLoaded,
  type Creatable,
  type Deletable,
  type FlatInstance,
  type Operation,
  type Savable,
  type WritableDeclaration,
} from './types';

function loadedBuilder(): StateBuilder<Project> {
  const builder = new StateBuilder<Project>(projectModel);
  builder.setAnchors([1]);
  builder.applyInstances(projectInstances);
  builder.markAnchorLoaded(1);
  return builder;
}

function projectOf(builder: StateBuilder<Project>): Project {
  const state = builder.state;
  if (state === undefined || Array.isArray(state)) {
    throw new Error(`Expected the state of a single channel, got ${JSON.stringify(state)}`);
  }
  return state;
}

function change(
  type: string,
  id: number,
  fields: Record<string, unknown>,
  tstamp: number,
  operation: Operation = 'update',
): FlatInstance {
  return { id, _instance_type: type, _tstamp: tstamp, _operation: operation, ...fields };
}

/** Returns element `index` of an array, failing the test when it is missing. */
function at<T>(items: readonly T[], index: number): T {
  const item = items[index];
  if (item === undefined) throw new Error(`No item at index ${index} of ${items.length}`);
  return item;
}

describe('StateBuilder nesting', () => {
  it('rebuilds the nested state', () => {
    expect(loadedBuilder().state).toEqual(expectedProject);
  });

  it('ignores arrival order', () => {
    const builder = new StateBuilder<Project>(projectModel);
    builder.setAnchors([1]);
    for (const instance of [...projectInstances].reverse()) {
      builder.applyInstances([instance]);
    }

    expect(builder.state).toEqual(expectedProject);
  });

  it('returns one instance by type and id', () => {
    const builder = loadedBuilder();

    expect(builder.getInstance(TASK, 101)).toEqual(expectedProject.tasks[1]);
    expect(builder.getInstance(TASK, 999)).toBeUndefined();
  });

  it('uses placeholders until loaded', () => {
    const builder = new StateBuilder<Project>(projectModel);
    builder.setAnchors([1]);
    builder.applyInstances(projectInstances.slice(0, 1));

    const project = projectOf(builder);
    expect(project.owner).toEqual({ id: 10, _instance_type: USER, _loaded: false });
    expect(project.tasks).toEqual([
      { id: 100, _instance_type: TASK, _loaded: false },
      { id: 101, _instance_type: TASK, _loaded: false },
    ]);
    expect(isLoaded(at(project.tasks, 0))).toBe(false);

    builder.applyInstances(projectInstances.slice(1));

    expect(builder.state).toEqual(expectedProject);
    expect(isLoaded(at(projectOf(builder).tasks, 0))).toBe(true);
  });

  it('keeps placeholder identity', () => {
    const builder = new StateBuilder<Project>(projectModel);
    builder.setAnchors([1]);
    builder.applyInstances(projectInstances.slice(0, 1));
    const before = projectOf(builder);

    builder.applyInstances([change(PROJECT, 1, { name: 'Renamed' }, 2)]);
    const after = projectOf(builder);

    expect(after).not.toBe(before);
    expect(after.owner).toBe(before.owner);
    expect(after.tasks).toBe(before.tasks);
  });
});

describe('StateBuilder structural sharing', () => {
  it('replaces only the changed path', () => {
    const builder = loadedBuilder();
    const before = projectOf(builder);

    builder.applyInstances([change(COMMENT, 201, { text: 'Edited' }, 2)]);
    const after = projectOf(builder);
    const task = at(after.tasks, 0);
    const taskBefore = at(before.tasks, 0);

    expect(at(task.comments, 1).text).toBe('Edited');
    expect(after).not.toBe(before);
    expect(after.tasks).not.toBe(before.tasks);
    expect(task).not.toBe(taskBefore);
    expect(task.comments).not.toBe(taskBefore.comments);
    expect(at(task.comments, 1)).not.toBe(at(taskBefore.comments, 1));
    expect(at(task.comments, 0)).toBe(at(taskBefore.comments, 0));
    expect(task.tags).toBe(taskBefore.tags);
    expect(task.assignee).toBe(taskBefore.assignee);
    expect(at(after.tasks, 1)).toBe(at(before.tasks, 1));
    expect(after.owner).toBe(before.owner);
    expect(after.tags).toBe(before.tags);
  });

  it('updates every parent of a shared instance', () => {
    const builder = loadedBuilder();
    const before = projectOf(builder);

    builder.applyInstances([change(USER, 10, { username: 'ana.b' }, 2)]);
    const after = projectOf(builder);
    const task = at(after.tasks, 0);
    const author = at(task.comments, 0).author;

    expect(after.owner?.username).toBe('ana.b');
    expect(task.assignee).toBe(after.owner);
    expect(author).toBe(after.owner);
    expect(at(task.comments, 1)).toBe(at(at(before.tasks, 0).comments, 1));
    expect(at(after.tasks, 1)).toBe(at(before.tasks, 1));
    expect(after.tags).toBe(before.tags);
  });

  it('keeps state for unchanged re-sends', () => {
    const builder = loadedBuilder();
    const before = builder.state;

    const changed = builder.applyInstances(projectInstances);

    expect(changed).toBe(false);
    expect(builder.state).toBe(before);
  });

  it('keeps lists when a field changes', () => {
    const builder = loadedBuilder();
    const before = at(projectOf(builder).tasks, 0);

    builder.applyInstances([change(TASK, 100, { title: 'Write more docs' }, 2)]);
    const after = at(projectOf(builder).tasks, 0);

    expect(after.title).toBe('Write more docs');
    expect(after.comments).toBe(before.comments);
    expect(after.tags).toBe(before.tags);
  });
});

describe('StateBuilder updates', () => {
  it('merges deltas', () => {
    const builder = loadedBuilder();

    builder.applyInstances([change(TASK, 100, { done: true }, 2)]);
    const task = at(projectOf(builder).tasks, 0);

    expect(task.done).toBe(true);
    expect(task.title).toBe('Write docs');
    expect(task.comments).toHaveLength(2);
  });

  it('ignores out-of-order updates', () => {
    const builder = loadedBuilder();
    builder.applyInstances([change(TASK, 100, { title: 'Newest' }, 3)]);
    const before = builder.state;

    const changed = builder.applyInstances([change(TASK, 100, { title: 'Older' }, 2)]);

    expect(changed).toBe(false);
    expect(builder.state).toBe(before);
    expect(at(projectOf(builder).tasks, 0).title).toBe('Newest');
  });

  it('adds a created instance', () => {
    const builder = loadedBuilder();

    builder.applyInstances([
      change(COMMENT, 202, { text: 'New', author: 11 }, 2, 'create'),
      change(TASK, 101, { comments: [202] }, 2),
    ]);
    const task = at(projectOf(builder).tasks, 1);

    expect(task.comments).toEqual([
      {
        id: 202,
        _instance_type: COMMENT,
        _tstamp: 2,
        text: 'New',
        author: expectedProject.tasks[0]?.comments[1]?.author,
      },
    ]);
  });

  it('moves an instance between lists', () => {
    const builder = loadedBuilder();

    builder.applyInstances([
      change(TASK, 100, { comments: [200] }, 2),
      change(TASK, 101, { comments: [201] }, 2),
    ]);
    const project = projectOf(builder);

    expect(at(project.tasks, 0).comments.map((comment) => comment.id)).toEqual([200]);
    expect(at(project.tasks, 1).comments.map((comment) => comment.id)).toEqual([201]);
  });
});

describe('StateBuilder deletes', () => {
  it('removes from every list', () => {
    const builder = loadedBuilder();

    builder.applyInstances([change(TAG, 1000, { name: 'urgent' }, 2, 'delete')]);
    const project = projectOf(builder);

    expect(project.tags).toEqual([]);
    expect(at(project.tasks, 0).tags.map((tag) => tag.id)).toEqual([1001]);
    expect(builder.getInstance(TAG, 1000)).toBeUndefined();
    expect(builder.getFlat(PROJECT, 1)?.tags).toEqual([]);
    expect(builder.getFlat(TASK, 100)?.tags).toEqual([1001]);
  });

  it('nulls to-one references', () => {
    const builder = loadedBuilder();

    builder.applyInstances([change(USER, 11, { username: 'ben' }, 2, 'delete')]);
    const comment = at(at(projectOf(builder).tasks, 0).comments, 1);

    expect(comment.author).toBeNull();
    expect(builder.getFlat(COMMENT, 201)?.author).toBeNull();
  });

  it('ignores updates older than the delete', () => {
    const builder = loadedBuilder();
    builder.applyInstances([change(COMMENT, 200, {}, 5, 'delete')]);

    const changed = builder.applyInstances([change(COMMENT, 200, { text: 'Late' }, 4)]);

    expect(changed).toBe(false);
    expect(builder.getInstance(COMMENT, 200)).toBeUndefined();
  });

  it('ignores deletes older than the held version', () => {
    const builder = loadedBuilder();
    builder.applyInstances([change(COMMENT, 200, { text: 'Newer' }, 5)]);

    const changed = builder.applyInstances([change(COMMENT, 200, {}, 4, 'delete')]);

    expect(changed).toBe(false);
    expect(at(at(projectOf(builder).tasks, 0).comments, 0).text).toBe('Newer');
  });

  it('leaves unrelated subtrees alone', () => {
    const builder = loadedBuilder();
    const before = projectOf(builder);

    builder.applyInstances([change(COMMENT, 201, {}, 2, 'delete')]);
    const after = projectOf(builder);

    expect(at(after.tasks, 0).comments.map((comment) => comment.id)).toEqual([200]);
    expect(at(at(after.tasks, 0).comments, 0)).toBe(at(at(before.tasks, 0).comments, 0));
    expect(at(after.tasks, 1)).toBe(at(before.tasks, 1));
    expect(after.owner).toBe(before.owner);
  });
});

describe('StateBuilder anchors', () => {
  function listBuilder(): StateBuilder<Project> {
    const builder = new StateBuilder<Project>(projectListModel);
    builder.setAnchors([1, 2]);
    builder.applyInstances([
      ...projectInstances,
      change(PROJECT, 2, { name: 'Second', owner: 11, tasks: [], tags: [] }, 1, 'initial_state'),
      change(PROJECT, 3, { name: 'Third', owner: null, tasks: [], tags: [] }, 1, 'initial_state'),
      change(PROJECT, 4, { name: 'Fourth', owner: null, tasks: [], tags: [] }, 1, 'initial_state'),
    ]);
    return builder;
  }

  function anchorIds(builder: StateBuilder<Project>): number[] {
    const state = builder.state;
    if (!Array.isArray(state)) throw new Error('Expected the state of a list channel');
    return state.map((project) => project.id);
  }

  it('keeps initial anchor order', () => {
    const builder = listBuilder();

    expect(anchorIds(builder)).toEqual([1, 2]);
    expect(builder.state).toEqual([
      expectedProject,
      expect.objectContaining({ id: 2, name: 'Second' }),
    ]);
  });

  it('prepends and appends anchors', () => {
    const builder = listBuilder();

    builder.prependAnchor(3);
    builder.appendAnchor(4);
    builder.appendAnchor(1);

    expect(anchorIds(builder)).toEqual([3, 1, 2, 4]);
  });

  it('removes an anchor and its instances', () => {
    const builder = listBuilder();

    builder.removeAnchor(1);

    expect(anchorIds(builder)).toEqual([2]);
    expect(builder.getInstance(TASK, 100)).toBeUndefined();
    expect(builder.getInstance(USER, 10)).toBeUndefined();
    expect(builder.getInstance(USER, 11)).toEqual(expect.objectContaining({ username: 'ben' }));
  });

  it('clears anchors', () => {
    const builder = listBuilder();

    builder.clearAnchors();

    expect(builder.state).toEqual([]);
    expect(builder.empty).toBe(true);
    expect(builder.getInstance(PROJECT, 1)).toBeUndefined();
  });

  it('keeps list identity for other changes', () => {
    const builder = listBuilder();
    const before = builder.state;

    builder.applyInstances([change(USER, 99, { username: 'nobody' }, 2, 'create')]);

    expect(builder.state).toBe(before);
  });

  it('skips anchors not received yet', () => {
    const builder = new StateBuilder<Project>(projectListModel);
    builder.setAnchors([5, 2]);
    builder.applyInstances([
      change(PROJECT, 2, { name: 'Second', owner: null, tasks: [], tags: [] }, 1, 'initial_state'),
    ]);

    expect(anchorIds(builder)).toEqual([2]);
  });

  it('single channel state is its anchor', () => {
    const builder = new StateBuilder<Project>(projectModel);
    expect(builder.state).toBeUndefined();

    builder.setAnchors([1]);
    builder.applyInstances(projectInstances);

    expect(builder.state).toBe(builder.getInstance(PROJECT, 1));
  });

  it('tracks loaded and empty', () => {
    const builder = new StateBuilder<Project>(projectListModel);
    expect(builder.loaded).toBe(false);
    expect(builder.empty).toBe(false);

    builder.setAnchors([1, 2]);
    builder.markAnchorLoaded(1);
    expect(builder.loaded).toBe(false);

    builder.markAnchorLoaded(2);
    expect(builder.loaded).toBe(true);

    builder.setAnchors([]);
    expect(builder.empty).toBe(true);
  });
});

describe('StateBuilder optimistic writes', () => {
  const writable: WritableDeclaration = {
    [PROJECT]: ['save'],
    [TASK]: ['save', 'create', 'delete'],
    [TAG]: ['delete'],
  };

  interface WriteCall {
    method: 'save' | 'delete' | 'create';
    args: unknown[];
  }

  function writableBuilder(): { builder: StateBuilder<Project>; calls: WriteCall[] } {
    const calls: WriteCall[] = [];
    const methods: WriteMethods = {
      writable,
      save: (...args) => {
        calls.push({ method: 'save', args });
        return Promise.resolve();
      },
      delete: (...args) => {
        calls.push({ method: 'delete', args });
        return Promise.resolve();
      },
      create: (...args) => {
        calls.push({ method: 'create', args });
        return Promise.resolve(undefined);
      },
    };
    const builder = new StateBuilder<Project>(projectModel, methods);
    builder.setAnchors([1]);
    builder.applyInstances(projectInstances);
    return { builder, calls };
  }

  const createdTask = change(
    TASK,
    102,
    { title: 'New', done: false, assignee: null, comments: [], tags: [] },
    2,
    'create',
  );

  function taskIds(builder: StateBuilder<Project>): unknown[] {
    return projectOf(builder).tasks.map((task) => task.id);
  }

  it('keeps JSON and equality with methods', () => {
    const { builder } = writableBuilder();
    const project = projectOf(builder);

    expect(project).toEqual(expectedProject);
    expect(JSON.parse(JSON.stringify(project))).toEqual(expectedProject);
    expect(Object.keys(project)).not.toContain('save');
    expect(typeof (project as unknown as Savable<Project>).save).toBe('function');
  });

  it('attaches methods by writable', () => {
    const { builder } = writableBuilder();
    const project = projectOf(builder) as unknown as Record<string, unknown>;
    const task = at(projectOf(builder).tasks, 0) as unknown as Record<string, unknown>;
    const comment = at(at(projectOf(builder).tasks, 0).comments, 0) as unknown as Record<
      string,
      unknown
    >;

    expect(typeof project.save).toBe('function');
    expect(project.delete).toBeUndefined();
    expect(typeof task.save).toBe('function');
    expect(typeof task.delete).toBe('function');
    expect(comment.save).toBeUndefined();
    expect(typeof (projectOf(builder).tasks as unknown as Record<string, unknown>).create).toBe(
      'function',
    );
    expect((projectOf(builder).tags as unknown as Record<string, unknown>).create).toBeUndefined();
  });

  it('binds methods to the instance', async () => {
    const { builder, calls } = writableBuilder();
    const task = at(projectOf(builder).tasks, 1) as unknown as Savable<Task> & Deletable;
    const tasks = projectOf(builder).tasks as unknown as Creatable<Task, Task>;
    const { save } = task;
    const { create } = tasks;

    await save({ title: 'Detached' });
    await task.delete();
    await create({ title: 'New' });

    expect(calls).toEqual([
      { method: 'save', args: [TASK, 101, { title: 'Detached' }] },
      { method: 'delete', args: [TASK, 101] },
      { method: 'create', args: [TASK, PROJECT, 1, 'tasks', { title: 'New' }] },
    ]);
  });

  it('keeps method identity across rebuilds', () => {
    const { builder } = writableBuilder();
    const before = at(projectOf(builder).tasks, 0) as unknown as Savable<Task>;
    const tasksBefore = projectOf(builder).tasks as unknown as Creatable<Task, Task>;

    builder.applyInstances([change(TASK, 100, { title: 'Renamed' }, 2)]);
    builder.applyInstances([change(PROJECT, 1, { tasks: [101, 100] }, 2)]);
    const after = at(projectOf(builder).tasks, 1) as unknown as Savable<Task>;
    const tasksAfter = projectOf(builder).tasks as unknown as Creatable<Task, Task>;

    expect(after).not.toBe(before);
    expect(after.save).toBe(before.save);
    expect(tasksAfter).not.toBe(tasksBefore);
    expect(tasksAfter.create).toBe(tasksBefore.create);
  });

  it('save shows fields at once', () => {
    const { builder } = writableBuilder();
    const before = projectOf(builder);

    const changed = builder.saveOptimistically(1, TASK, 100, { title: 'Draft' });
    const after = projectOf(builder);

    expect(changed).toBe(true);
    expect(at(after.tasks, 0).title).toBe('Draft');
    expect(at(after.tasks, 0).comments).toBe(at(before.tasks, 0).comments);
    expect(at(after.tasks, 1)).toBe(at(before.tasks, 1));
    expect(after.owner).toBe(before.owner);
    expect(builder.hasWrite(1)).toBe(true);
  });

  it('save ignores id and nested fields', () => {
    const { builder } = writableBuilder();

    builder.saveOptimistically(1, TASK, 100, {
      id: 5,
      comments: [{ id: 200 }],
      title: 'Draft',
      done: undefined,
    });
    const task = at(projectOf(builder).tasks, 0);

    expect(task.id).toBe(100);
    expect(task.comments.map((comment) => comment.id)).toEqual([200, 201]);
    expect(task.done).toBe(false);
    expect(task.title).toBe('Draft');
  });

  it('drop restores only that save', () => {
    const { builder } = writableBuilder();
    builder.saveOptimistically(1, TASK, 100, { title: 'Draft' });
    builder.saveOptimistically(2, TASK, 100, { done: true });

    builder.dropWrite(1);
    const task = at(projectOf(builder).tasks, 0);

    expect(task.title).toBe('Write docs');
    expect(task.done).toBe(true);
    expect(builder.hasWrite(1)).toBe(false);
    expect(builder.hasWrite(2)).toBe(true);
  });

  it('drop of newer save shows older', () => {
    const { builder } = writableBuilder();
    builder.saveOptimistically(1, TASK, 100, { title: 'First' });
    builder.saveOptimistically(2, TASK, 100, { title: 'Second' });

    builder.dropWrite(2);

    expect(at(projectOf(builder).tasks, 0).title).toBe('First');
  });

  it('broadcast replaces optimistic fields', () => {
    const { builder } = writableBuilder();
    builder.saveOptimistically(1, TASK, 100, { title: 'Draft', done: true });

    builder.applyInstances([change(TASK, 100, { title: 'From another user' }, 2)]);
    const task = at(projectOf(builder).tasks, 0);

    expect(task.title).toBe('From another user');
    expect(task.done).toBe(true);
    expect(builder.hasWrite(1)).toBe(true);

    builder.applyInstances([change(TASK, 100, { done: true }, 3)]);

    expect(builder.hasWrite(1)).toBe(false);
    expect(at(projectOf(builder).tasks, 0).done).toBe(true);
  });

  it('broadcast of older save keeps newer', () => {
    const { builder } = writableBuilder();
    builder.saveOptimistically(1, TASK, 100, { title: 'a' });
    builder.saveOptimistically(2, TASK, 100, { title: 'ab' });

    builder.applyInstances([change(TASK, 100, { title: 'a' }, 2)]);

    expect(at(projectOf(builder).tasks, 0).title).toBe('ab');
    expect(builder.hasWrite(1)).toBe(false);
    expect(builder.hasWrite(2)).toBe(true);
  });

  it('unchanged re-send keeps overlay', () => {
    const { builder } = writableBuilder();
    builder.saveOptimistically(1, TASK, 100, { title: 'Draft' });

    builder.applyInstances([{ ...at(projectInstances, 1), _tstamp: 2 }]);

    expect(at(projectOf(builder).tasks, 0).title).toBe('Draft');
    expect(builder.hasWrite(1)).toBe(true);
  });

  it('drop after broadcast keeps server value', () => {
    const { builder } = writableBuilder();
    builder.saveOptimistically(1, TASK, 100, { title: 'Draft', done: true });
    builder.applyInstances([change(TASK, 100, { title: 'Server' }, 2)]);

    builder.dropWrite(1);
    const task = at(projectOf(builder).tasks, 0);

    expect(task.title).toBe('Server');
    expect(task.done).toBe(false);
  });

  it('create shows a temporary instance', () => {
    const { builder } = writableBuilder();
    const before = projectOf(builder);

    builder.createOptimistically(1, TASK, -1, { title: 'New', tags: [1000] }, PROJECT, 1, 'tasks');
    const after = projectOf(builder);

    expect(taskIds(builder)).toEqual([100, 101, -1]);
    expect(at(after.tasks, 2)).toEqual({
      id: -1,
      _instance_type: TASK,
      _tstamp: 0,
      title: 'New',
      assignee: null,
      comments: [],
      tags: [],
    });
    expect(at(after.tasks, 0)).toBe(at(before.tasks, 0));
    expect(builder.getInstance(TASK, -1)).toBe(at(after.tasks, 2));
  });

  it('created instance replaces temporary after response', () => {
    const { builder } = writableBuilder();
    builder.createOptimistically(1, TASK, -1, { title: 'New' }, PROJECT, 1, 'tasks');

    builder.setCreatedId(1, 102);
    expect(taskIds(builder)).toEqual([100, 101, -1]);

    builder.applyInstances([createdTask]);
    expect(taskIds(builder)).toEqual([100, 101, 102]);
    expect(builder.getInstance(TASK, -1)).toBeUndefined();
    expect(builder.hasWrite(1)).toBe(true);

    builder.applyInstances([change(PROJECT, 1, { tasks: [100, 101, 102] }, 2)]);
    expect(taskIds(builder)).toEqual([100, 101, 102]);
    expect(builder.hasWrite(1)).toBe(false);
  });

  it('created instance replaces temporary before response', () => {
    const { builder } = writableBuilder();
    builder.createOptimistically(1, TASK, -1, { title: 'New' }, PROJECT, 1, 'tasks');
    builder.applyInstances([createdTask, change(PROJECT, 1, { tasks: [100, 101, 102] }, 2)]);

    builder.setCreatedId(1, 102);

    expect(taskIds(builder)).toEqual([100, 101, 102]);
    expect(builder.getInstance(TASK, -1)).toBeUndefined();
    expect(builder.hasWrite(1)).toBe(false);
  });

  it('listed id hides temporary before arrival', () => {
    const { builder } = writableBuilder();
    builder.createOptimistically(1, TASK, -1, { title: 'New' }, PROJECT, 1, 'tasks');
    builder.setCreatedId(1, 102);

    builder.applyInstances([change(PROJECT, 1, { tasks: [100, 101, 102] }, 2)]);

    expect(taskIds(builder)).toEqual([100, 101, 102]);
    expect(isLoaded(at(projectOf(builder).tasks, 2))).toBe(false);
  });

  it('drop removes temporary instance', () => {
    const { builder } = writableBuilder();
    const before = projectOf(builder);
    builder.createOptimistically(1, TASK, -1, { title: 'New' }, PROJECT, 1, 'tasks');

    builder.dropWrite(1);

    expect(projectOf(builder)).toEqual(before);
    expect(builder.getInstance(TASK, -1)).toBeUndefined();
    expect(builder.hasWrite(1)).toBe(false);
  });

  it('delete removes from every list', () => {
    const { builder } = writableBuilder();

    builder.deleteOptimistically(1, TAG, 1000);
    const project = projectOf(builder);

    expect(project.tags).toEqual([]);
    expect(at(project.tasks, 0).tags.map((tag) => tag.id)).toEqual([1001]);
    expect(builder.getInstance(TAG, 1000)).toBeUndefined();
  });

  it('drop reinserts at original index', () => {
    const { builder } = writableBuilder();
    builder.deleteOptimistically(1, TAG, 1000);

    builder.dropWrite(1);
    const project = projectOf(builder);

    expect(project).toEqual(expectedProject);
    expect(at(project.tasks, 0).tags.map((tag) => tag.id)).toEqual([1000, 1001]);
  });

  it('server delete spends optimistic delete', () => {
    const { builder } = writableBuilder();
    builder.deleteOptimistically(1, TASK, 100);

    builder.applyInstances([change(TASK, 100, {}, 2, 'delete')]);

    expect(builder.hasWrite(1)).toBe(false);
    expect(taskIds(builder)).toEqual([101]);
  });

  it('drops overlays of a dropped anchor', () => {
    const builder = new StateBuilder<Project>(projectListModel);
    builder.setAnchors([1]);
    builder.applyInstances(projectInstances);
    builder.saveOptimistically(1, TASK, 100, { title: 'Draft' });

    builder.removeAnchor(1);

    expect(builder.hasWrite(1)).toBe(false);
    expect(builder.dropWrite(1)).toBe(false);
    expect(builder.getInstance(TASK, 100)).toBeUndefined();
  });
});
