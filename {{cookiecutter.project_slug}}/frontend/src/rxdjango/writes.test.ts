import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ContextChannel } from './channel';
import {
  COMMENT,
  PROJECT,
  TAG,
  TASK,
  expectedProject,
  projectInstances,
  projectModel,
  type Project,
  type Tag,
  type Task,
} from './test/projectFixture';
import {
  TestServer,
  TestWebSocket,
  silentLogger,
  waitFor,
  type ServerConnection,
} from './test/wsServer';
import {
  ChannelError,
  type ChannelModel,
  type ChannelOptions,
  type CreatableList,
  type Deletable,
  type FlatInstance,
  type Logger,
  type Savable,
} from './types';
import { STILL_CREATING, WRITE_TIMED_OUT, isPending } from './writes';

// The state types that makefrontend generates for a channel with this writable declaration.
interface TaskPayload {
  title: string;
  done?: boolean;
}
interface ProjectPayload {
  name: string;
}
type TaskState = Task & Savable<TaskPayload> & Deletable;
type TagState = Tag & Deletable;
type ProjectState = Omit<Project, 'tasks' | 'tags'> &
  Savable<ProjectPayload> & {
    tasks: CreatableList<TaskState, TaskPayload>;
    tags: TagState[];
  };

class ProjectChannel extends ContextChannel<ProjectState> {
  static override readonly writable = {
    [PROJECT]: ['save'],
    [TAG]: ['delete'],
    [TASK]: ['save', 'create', 'delete'],
  } as const;

  constructor(options: ChannelOptions, model: ChannelModel = projectModel) {
    super(model, 'ws/project/{project_id}/', { project_id: 1 }, 'token', options);
  }

  get project(): ProjectState {
    const state = this.getSnapshot().state;
    if (state === undefined || Array.isArray(state)) {
      throw new Error(`Expected the project state, got ${JSON.stringify(state)}`);
    }
    return state;
  }

  task(index: number): TaskState {
    const task = this.project.tasks[index];
    if (task === undefined) throw new Error(`No task at index ${index}`);
    return task;
  }
}

let server: TestServer;
let unsubscribers: (() => void)[];

beforeEach(async () => {
  server = await TestServer.start();
  unsubscribers = [];
});

afterEach(async () => {
  for (const unsubscribe of unsubscribers) unsubscribe();
  await server.stop();
});

function createChannel(
  options: Partial<ChannelOptions> = {},
  model: ChannelModel = projectModel,
): ProjectChannel {
  return new ProjectChannel(
    {
      baseUrl: server.baseUrl,
      WebSocket: TestWebSocket,
      backoff: { initialMs: 20, maxMs: 100 },
      logger: silentLogger,
      ...options,
    },
    model,
  );
}

/** Subscribes, authenticates and loads the project, returning the server side of the connection. */
async function connectLoaded(channel: ProjectChannel): Promise<ServerConnection> {
  unsubscribers.push(channel.subscribe(() => {}));
  const connection = await server.connection(0);
  await connection.frame(0);
  connection.send({ type: 'auth', statusCode: 200 });
  connection.send({ type: 'initialAnchors', anchorIds: [1] });
  connection.send({ type: 'instances', instances: projectInstances });
  connection.send({ type: 'initialStateEnd', anchorId: 1, tstamp: 10 });
  await waitFor(() => channel.getSnapshot().loaded);
  return connection;
}

function instance(
  type: string,
  id: number,
  fields: Record<string, unknown>,
  tstamp: number,
  operation: FlatInstance['_operation'] = 'update',
): FlatInstance {
  return { id, _instance_type: type, _tstamp: tstamp, _operation: operation, ...fields };
}

function taskIds(channel: ProjectChannel): unknown[] {
  return channel.project.tasks.map((task) => task.id);
}

/** Sends an action and waits for it, so that every frame sent before it has arrived. */
async function flush(channel: ProjectChannel, connection: ServerConnection): Promise<void> {
  const index = connection.received.length;
  const result = channel.callAction('flush', []);
  const frame = await connection.frame(index);
  connection.send({ type: 'actionResponse', callId: frame.callId, result: null });
  await result;
}

/** Runs a write without waiting for it, so that the socket's close at the end of the test does not reject it unhandled. */
function background(promise: Promise<unknown> | undefined): void {
  promise?.catch(() => {});
}

/** Returns the outcome of a promise that must reject, failing the test when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<ChannelError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ChannelError);
    return error as ChannelError;
  }
  throw new Error('Expected the promise to reject');
}

describe('save', () => {
  it('shows the change at once', async () => {
    const channel = createChannel();
    const connection = await connectLoaded(channel);
    const before = channel.project;

    background(channel.task(0).save({ title: 'Draft' }));

    expect(channel.task(0).title).toBe('Draft');
    expect(channel.project.tasks[1]).toBe(before.tasks[1]);
    expect(channel.getSnapshot().pendingWrites).toEqual([
      { writeId: 1, operation: 'save', instanceType: TASK, instanceId: 100 },
    ]);
    expect(await connection.frame(1)).toEqual({
      type: 'write',
      writeId: 1,
      operation: 'save',
      instanceType: TASK,
      instanceId: 100,
      data: { title: 'Draft' },
    });
  });

  it('confirm keeps the change', async () => {
    const channel = createChannel();
    const connection = await connectLoaded(channel);

    const saved = channel.task(0).save({ title: 'Draft' });
    await connection.frame(1);
    connection.send({ type: 'writeResponse', writeId: 1, success: true });
    await saved;

    expect(channel.task(0).title).toBe('Draft');
    expect(channel.getSnapshot().pendingWrites).toEqual([]);
    expect(channel.isPending(TASK, 100)).toBe(false);

    connection.send({
      type: 'instances',
      instances: [instance(TASK, 100, { title: 'Draft' }, 11)],
    });
    await flush(channel, connection);

    expect(channel.task(0).title).toBe('Draft');
    expect(channel.getInstance(TASK, 100)).toEqual({
      ...expectedProject.tasks[0],
      title: 'Draft',
      _tstamp: 11,
    });
  });

  it('broadcast replaces the change', async () => {
    const channel = createChannel();
    const connection = await connectLoaded(channel);

    background(channel.task(0).save({ title: 'Draft' }));
    connection.send({
      type: 'instances',
      instances: [instance(TASK, 100, { title: 'Saved by someone else' }, 11)],
    });
    await waitFor(() => channel.task(0).title !== 'Draft');

    expect(channel.task(0).title).toBe('Saved by someone else');
  });

  it('reject restores and rejects', async () => {
    const channel = createChannel();
    const connection = await connectLoaded(channel);
    const before = channel.task(0);

    const saved = channel.task(0).save({ title: '' });
    await connection.frame(1);
    connection.send({
      type: 'writeResponse',
      writeId: 1,
      success: false,
      error: {
        code: 400,
        message: 'invalid data',
        fields: { title: ['This field may not be blank.'] },
      },
    });
    const error = await rejection(saved);

    expect(error.code).toBe(400);
    expect(error.message).toBe('invalid data');
    expect(error.fields).toEqual({ title: ['This field may not be blank.'] });
    expect(channel.task(0)).toEqual(before);
    expect(channel.getSnapshot().pendingWrites).toEqual([]);
  });

  it('concurrent writes roll back independently', async () => {
    const channel = createChannel();
    const connection = await connectLoaded(channel);

    const first = channel.task(0).save({ title: 'Draft' });
    const second = channel.task(0).save({ done: true });
    await connection.frame(2);
    connection.send({
      type: 'writeResponse',
      writeId: 1,
      success: false,
      error: { code: 403, message: 'not allowed' },
    });

    expect((await rejection(first)).code).toBe(403);
    expect(channel.task(0).title).toBe('Write docs');
    expect(channel.task(0).done).toBe(true);
    expect(channel.getSnapshot().pendingWrites.map((write) => write.writeId)).toEqual([2]);

    connection.send({ type: 'writeResponse', writeId: 2, success: true });
    await second;

    expect(channel.task(0).done).toBe(true);
  });

  it('concurrent saves of one field roll back independently', async () => {
    const channel = createChannel();
    const connection = await connectLoaded(channel);

    const first = channel.task(0).save({ title: 'First' });
    background(channel.task(0).save({ title: 'Second' }));
    await connection.frame(2);
    connection.send({
      type: 'writeResponse',
      writeId: 2,
      success: false,
      error: { code: 400, message: 'invalid data' },
    });
    await waitFor(() => channel.getSnapshot().pendingWrites.length === 1);

    expect(channel.task(0).title).toBe('First');

    connection.send({ type: 'writeResponse', writeId: 1, success: true });
    await first;

    expect(channel.task(0).title).toBe('First');
  });

  it('timeout falls back to server state', async () => {
    const warnings: unknown[] = [];
    const logger: Logger = { ...silentLogger, warn: (...args) => warnings.push(args) };
    const channel = createChannel({ optimisticTimeoutMs: 50, logger });
    const connection = await connectLoaded(channel);

    const saved = channel.task(0).save({ title: 'Draft' });
    await connection.frame(1);
    const error = await rejection(saved);

    expect(error.code).toBe(WRITE_TIMED_OUT);
    expect(error.message).toMatch(/did not confirm the save/);
    expect(channel.task(0).title).toBe('Write docs');
    expect(channel.getSnapshot().pendingWrites).toEqual([]);

    connection.send({ type: 'writeResponse', writeId: 1, success: true });
    await flush(channel, connection);

    expect(warnings).toEqual([]);
  });

  it('timeout after confirm drops the overlay', async () => {
    const channel = createChannel({ optimisticTimeoutMs: 50 });
    const connection = await connectLoaded(channel);

    const saved = channel.task(0).save({ title: 'Draft' });
    await connection.frame(1);
    connection.send({ type: 'writeResponse', writeId: 1, success: true });
    await saved;
    expect(channel.task(0).title).toBe('Draft');

    await waitFor(() => channel.task(0).title === 'Write docs');
  });

  it('close rejects and rolls back', async () => {
    const channel = createChannel();
    const connection = await connectLoaded(channel);

    const saved = channel.task(0).save({ title: 'Draft' });
    await connection.frame(1);
    connection.terminate();
    const error = await rejection(saved);

    expect(error.code).toBe(503);
    expect(channel.task(0).title).toBe('Write docs');
    expect(channel.getSnapshot().pendingWrites).toEqual([]);
  });

  it('write made offline is withdrawn', async () => {
    const channel = createChannel({ optimisticTimeoutMs: 50 });
    unsubscribers.push(channel.subscribe(() => {}));
    const connection = await server.connection(0);
    await connection.frame(0);

    const error = await rejection(channel.saveInstance(TASK, 100, { title: 'Draft' }));
    connection.send({ type: 'auth', statusCode: 200 });
    await waitFor(() => channel.getSnapshot().connected);
    const index = connection.received.length;
    background(channel.callAction('flush', []));
    const next = await connection.frame(index);

    expect(error.code).toBe(WRITE_TIMED_OUT);
    expect(error.message).toMatch(/will not be sent/);
    expect(next).toMatchObject({ type: 'action', action: 'flush' });
    expect(connection.received.filter((frame) => frame.type === 'write')).toEqual([]);
  });

  it('non-optimistic type waits for broadcast', async () => {
    const model: ChannelModel = { ...projectModel, optimisticTimeoutMs: { [TASK]: 1000 } };
    const channel = createChannel({}, model);
    const connection = await connectLoaded(channel);

    const saved = channel.project.save({ name: 'Renamed' });

    expect(channel.project.name).toBe('Launch');
    expect(channel.isPending(PROJECT, 1)).toBe(true);

    await connection.frame(1);
    connection.send({
      type: 'instances',
      instances: [instance(PROJECT, 1, { name: 'Renamed' }, 11)],
    });
    connection.send({ type: 'writeResponse', writeId: 1, success: true });
    await saved;

    expect(channel.project.name).toBe('Renamed');
  });
});

describe('create', () => {
  const created = instance(
    TASK,
    102,
    { title: 'New', done: false, assignee: null, comments: [], tags: [] },
    11,
    'create',
  );
  const parentUpdate = instance(PROJECT, 1, { tasks: [100, 101, 102] }, 11);

  it('shows a temporary instance', async () => {
    const channel = createChannel();
    const connection = await connectLoaded(channel);

    background(channel.project.tasks.create({ title: 'New' }));

    expect(taskIds(channel)).toEqual([100, 101, -1]);
    expect(channel.task(2).title).toBe('New');
    expect(channel.isPending(TASK, -1)).toBe(true);
    expect(await connection.frame(1)).toEqual({
      type: 'write',
      writeId: 1,
      operation: 'create',
      instanceType: TASK,
      parentType: PROJECT,
      parentId: 1,
      relationName: 'tasks',
      data: { title: 'New' },
    });
  });

  it('response first then broadcast', async () => {
    const channel = createChannel();
    const connection = await connectLoaded(channel);

    const result = channel.project.tasks.create({ title: 'New' });
    await connection.frame(1);
    connection.send({ type: 'writeResponse', writeId: 1, success: true, instanceId: 102 });
    await waitFor(() => channel.getSnapshot().pendingWrites.length === 1);
    await flush(channel, connection);

    expect(taskIds(channel)).toEqual([100, 101, -1]);

    connection.send({ type: 'instances', instances: [created] });
    connection.send({ type: 'instances', instances: [parentUpdate] });
    const task = await result;

    expect(task.id).toBe(102);
    await flush(channel, connection);
    expect(taskIds(channel)).toEqual([100, 101, 102]);
    expect(channel.getInstance(TASK, -1)).toBeUndefined();
    expect(channel.getSnapshot().pendingWrites).toEqual([]);
  });

  it('broadcast first then response', async () => {
    const channel = createChannel();
    const connection = await connectLoaded(channel);

    const result = channel.project.tasks.create({ title: 'New' });
    await connection.frame(1);
    connection.send({ type: 'instances', instances: [created] });
    connection.send({ type: 'instances', instances: [parentUpdate] });
    connection.send({ type: 'writeResponse', writeId: 1, success: true, instanceId: 102 });
    const task = await result;

    expect(task).toEqual({ ...created, _operation: undefined });
    expect(taskIds(channel)).toEqual([100, 101, 102]);
    expect(channel.getInstance(TASK, -1)).toBeUndefined();
  });

  it('rejected create removes temporary', async () => {
    const channel = createChannel();
    const connection = await connectLoaded(channel);
    const before = channel.project;

    const result = channel.project.tasks.create({ title: 'New' });
    await connection.frame(1);
    connection.send({
      type: 'writeResponse',
      writeId: 1,
      success: false,
      error: { code: 403, message: 'not allowed' },
    });
    const error = await rejection(result);

    expect(error).toMatchObject({ code: 403, message: 'not allowed' });
    expect(taskIds(channel)).toEqual([100, 101]);
    expect(channel.project).toEqual(before);
    expect(channel.getInstance(TASK, -1)).toBeUndefined();
  });

  it('write to temporary rejects', async () => {
    const channel = createChannel();
    await connectLoaded(channel);

    background(channel.project.tasks.create({ title: 'New' }));
    const error = await rejection(channel.task(2).save({ title: 'Too soon' }));

    expect(error.code).toBe(STILL_CREATING);
  });

  it('write to replaced temporary reaches created instance', async () => {
    const channel = createChannel();
    const connection = await connectLoaded(channel);
    const result = channel.project.tasks.create({ title: 'New' });
    const temporary = channel.task(2);
    await connection.frame(1);
    connection.send({ type: 'writeResponse', writeId: 1, success: true, instanceId: 102 });
    connection.send({ type: 'instances', instances: [created, parentUpdate] });
    await result;

    background(temporary.save({ title: 'Renamed' }));

    expect(await connection.frame(2)).toMatchObject({ operation: 'save', instanceId: 102 });
    expect(channel.task(2).title).toBe('Renamed');
  });
});

describe('delete', () => {
  it('removes from every list at once', async () => {
    const channel = createChannel();
    const connection = await connectLoaded(channel);

    background(channel.project.tags[0]?.delete());

    expect(channel.project.tags).toEqual([]);
    expect(channel.task(0).tags.map((tag) => tag.id)).toEqual([1001]);
    expect(await connection.frame(1)).toEqual({
      type: 'write',
      writeId: 1,
      operation: 'delete',
      instanceType: TAG,
      instanceId: 1000,
    });
  });

  it('rejected delete reinserts at original index', async () => {
    const channel = createChannel();
    const connection = await connectLoaded(channel);

    const tag = channel.project.tags[0];
    if (tag === undefined) throw new Error('The project has no tag');
    const tagDeleted = tag.delete();
    const taskDeleted = channel.task(0).delete();
    expect(taskIds(channel)).toEqual([101]);
    await connection.frame(2);
    for (const writeId of [1, 2]) {
      connection.send({
        type: 'writeResponse',
        writeId,
        success: false,
        error: { code: 404, message: 'not found' },
      });
    }
    const errors = await Promise.all([rejection(tagDeleted), rejection(taskDeleted)]);

    expect(errors.map((error) => error.code)).toEqual([404, 404]);

    expect(taskIds(channel)).toEqual([100, 101]);
    expect(channel.project.tags.map((tag) => tag.id)).toEqual([1000]);
    expect(channel.task(0).tags.map((tag) => tag.id)).toEqual([1000, 1001]);
    expect(channel.project).toEqual(expectedProject);
  });

  it('confirm and tombstone keep it deleted', async () => {
    const channel = createChannel();
    const connection = await connectLoaded(channel);

    const deleted = channel.task(0).delete();
    await connection.frame(1);
    connection.send({ type: 'writeResponse', writeId: 1, success: true });
    connection.send({ type: 'instances', instances: [instance(TASK, 100, {}, 11, 'delete')] });
    connection.send({ type: 'instances', instances: [instance(PROJECT, 1, { tasks: [101] }, 11)] });
    await deleted;
    await flush(channel, connection);

    expect(taskIds(channel)).toEqual([101]);
    expect(channel.getInstance(TASK, 100)).toBeUndefined();
  });
});

describe('undeclared writes', () => {
  it('reject without sending', async () => {
    const channel = createChannel();
    const connection = await connectLoaded(channel);

    const deleteComment = await rejection(channel.deleteInstance(COMMENT, 200));
    const deleteProject = await rejection(channel.deleteInstance(PROJECT, 1));
    const saveTag = await rejection(channel.saveInstance(TAG, 1000, { name: 'x' }));
    const createTag = await rejection(channel.createInstance(TAG, PROJECT, 1, 'tags', {}));
    const wrongRelation = await rejection(channel.createInstance(TASK, PROJECT, 1, 'tags', {}));
    await flush(channel, connection);

    expect([deleteComment, deleteProject, saveTag, createTag].map((error) => error.code)).toEqual([
      403, 403, 403, 403,
    ]);
    expect(deleteComment.message).toMatch(/Meta\.writable/);
    expect(wrongRelation.code).toBe(400);
    expect(connection.received.filter((frame) => frame.type === 'write')).toEqual([]);
    expect(channel.getSnapshot().pendingWrites).toEqual([]);
    expect(channel.project).toEqual(expectedProject);
  });

  it('leave read-only objects without methods', async () => {
    const channel = createChannel();
    await connectLoaded(channel);
    const comment = channel.task(0).comments[0] as unknown as Record<string, unknown>;

    expect(comment.save).toBeUndefined();
    expect(comment.delete).toBeUndefined();
    expect((channel.project.tags as unknown as Record<string, unknown>).create).toBeUndefined();
  });

  it('reject without a subscriber', async () => {
    const channel = createChannel();

    const error = await rejection(channel.saveInstance(TASK, 100, { title: 'Draft' }));

    expect(error.code).toBe(503);
  });
});

describe('isPending', () => {
  it('reads a snapshot', () => {
    const snapshot = {
      pendingWrites: [
        { writeId: 3, operation: 'save' as const, instanceType: TASK, instanceId: 7 },
      ],
    };

    expect(isPending(snapshot, TASK, 7)).toBe(true);
    expect(isPending(snapshot, TASK, 8)).toBe(false);
    expect(isPending(snapshot, TAG, 7)).toBe(false);
  });
});
