import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { CONNECTION_CLOSED, ContextChannel, channelUrl } from './channel';
import {
  expectedProject,
  projectInstances,
  projectModel,
  type Project,
} from './test/projectFixture';
import {
  TestServer,
  TestWebSocket,
  silentLogger,
  waitFor,
  type ServerConnection,
} from './test/wsServer';
import type { ChannelError, ChannelOptions } from './types';

interface Runtime {
  viewers: number;
  last_event: string;
}

class ProjectChannel extends ContextChannel<Project, Runtime> {
  constructor(kwargs: { project_id: number }, token: string, options?: ChannelOptions) {
    super(projectModel, 'ws/project/{project_id}/', kwargs, token, options);
  }

  add(a: number, b: number): Promise<number> {
    return this.callAction('add', [a, b]);
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

function createChannel(): ProjectChannel {
  return new ProjectChannel({ project_id: 1 }, 'secret-token', {
    baseUrl: server.baseUrl,
    WebSocket: TestWebSocket,
    backoff: { initialMs: 20, maxMs: 100 },
    logger: silentLogger,
  });
}

/** Subscribes to the channel and returns the server side of its authenticated connection. */
async function connect(channel: ProjectChannel, index = 0): Promise<ServerConnection> {
  unsubscribers.push(channel.subscribe(() => {}));
  const connection = await server.connection(index);
  await connection.frame(0);
  connection.send({ type: 'auth', statusCode: 200 });
  await waitFor(() => channel.getSnapshot().connected);
  return connection;
}

function sendProject(connection: ServerConnection): void {
  connection.send({ type: 'initialAnchors', anchorIds: [1] });
  connection.send({ type: 'instances', instances: projectInstances });
  connection.send({ type: 'initialStateEnd', anchorId: 1, tstamp: 10 });
}

describe('channelUrl', () => {
  it('substitutes kwargs', () => {
    expect(channelUrl('ws/project/{project_id}/', { project_id: 7 }, 'ws://example.test')).toBe(
      'ws://example.test/ws/project/7/',
    );
  });

  it('encodes kwargs', () => {
    expect(channelUrl('ws/tag/{name}/', { name: 'a b/c' }, 'ws://example.test/')).toBe(
      'ws://example.test/ws/tag/a%20b%2Fc/',
    );
  });

  it('maps http to ws', () => {
    expect(channelUrl('ws/x/', {}, 'http://example.test')).toBe('ws://example.test/ws/x/');
    expect(channelUrl('ws/x/', {}, 'https://example.test')).toBe('wss://example.test/ws/x/');
  });

  it('defaults to the page host', () => {
    expect(channelUrl('ws/x/', {})).toBe(`ws://${window.location.host}/ws/x/`);
  });

  it('rejects missing kwargs', () => {
    expect(() => channelUrl('ws/project/{project_id}/', {}, 'ws://example.test')).toThrow(
      /project_id/,
    );
  });
});

describe('ContextChannel state', () => {
  it('connects on subscribe', async () => {
    const channel = createChannel();
    expect(channel.getSnapshot().connected).toBe(false);

    const connection = await connect(channel);

    expect(connection.path).toBe('/ws/project/1/');
    expect(connection.received[0]).toEqual({
      type: 'auth',
      token: 'secret-token',
      lastUpdate: null,
    });
    expect(channel.getSnapshot().noConnectionSince).toBeNull();
  });

  it('renders state from frames', async () => {
    const channel = createChannel();
    const connection = await connect(channel);

    sendProject(connection);
    await waitFor(() => channel.getSnapshot().loaded);
    const snapshot = channel.getSnapshot();

    expect(snapshot.state).toEqual(expectedProject);
    expect(snapshot.empty).toBe(false);
    expect(snapshot.error).toBeNull();
  });

  it('keeps the snapshot until a change', async () => {
    const channel = createChannel();
    const connection = await connect(channel);
    sendProject(connection);
    await waitFor(() => channel.getSnapshot().loaded);
    const before = channel.getSnapshot();
    let notified = 0;
    unsubscribers.push(channel.subscribe(() => (notified += 1)));

    connection.send({ type: 'instances', instances: projectInstances });
    connection.send({ type: 'system', message: 'sync' });
    await new Promise((resolve) => setTimeout(resolve, 30));

    expect(channel.getSnapshot()).toBe(before);
    expect(notified).toBe(0);
  });

  it('notifies listeners on change', async () => {
    const channel = createChannel();
    const connection = await connect(channel);
    sendProject(connection);
    await waitFor(() => channel.getSnapshot().loaded);
    let notified = 0;
    unsubscribers.push(channel.subscribe(() => (notified += 1)));

    connection.send({
      type: 'instances',
      instances: [
        {
          id: 1,
          _instance_type: projectModel.anchor,
          _tstamp: 11,
          _operation: 'update',
          name: 'Renamed',
        },
      ],
    });
    await waitFor(() => notified === 1);

    expect(channel.getInstance<Project>(projectModel.anchor, 1)?.name).toBe('Renamed');
  });

  it('closes after the last unsubscribe', async () => {
    const channel = createChannel();
    const connection = await connect(channel);

    for (const unsubscribe of unsubscribers.splice(0)) unsubscribe();
    const closed = await connection.closed;

    expect(closed.code).toBe(1000);
    expect(channel.getSnapshot().connected).toBe(false);
  });

  it('reports auth failure', async () => {
    const channel = createChannel();
    const errors: ChannelError[] = [];
    channel.on('error', (error) => errors.push(error));
    unsubscribers.push(channel.subscribe(() => {}));
    const connection = await server.connection(0);
    await connection.frame(0);

    connection.send({ type: 'auth', statusCode: 403, error: 'permission denied' });
    connection.close(4403, 'forbidden');
    await waitFor(() => channel.getSnapshot().error !== null);

    expect(channel.getSnapshot().error).toMatchObject({ code: 403, message: 'permission denied' });
    expect(errors.map((error) => error.code)).toEqual([403]);
  });
});

describe('ContextChannel actions', () => {
  it('resolves with the result', async () => {
    const channel = createChannel();
    const connection = await connect(channel);

    const result = channel.add(1, 2);
    const frame = await connection.frame(1);
    connection.send({ type: 'actionResponse', callId: frame.callId, result: 3 });

    expect(frame).toEqual({ type: 'action', callId: 1, action: 'add', params: [1, 2] });
    await expect(result).resolves.toBe(3);
  });

  it('increases call ids', async () => {
    const channel = createChannel();
    const connection = await connect(channel);

    const calls = [channel.add(1, 1), channel.add(2, 2)];
    const first = await connection.frame(1);
    const second = await connection.frame(2);
    connection.send({ type: 'actionResponse', callId: second.callId, result: 4 });
    connection.send({ type: 'actionResponse', callId: first.callId, result: 2 });

    expect([first.callId, second.callId]).toEqual([1, 2]);
    await expect(Promise.all(calls)).resolves.toEqual([2, 4]);
  });

  it('rejects with the server error', async () => {
    const channel = createChannel();
    const connection = await connect(channel);

    const result = channel.callAction('missing', []);
    const frame = await connection.frame(1);
    connection.send({
      type: 'actionResponse',
      callId: frame.callId,
      error: { code: 404, message: "unknown action 'missing'" },
    });

    await expect(result).rejects.toMatchObject({ code: 404, message: "unknown action 'missing'" });
  });

  it('rejects pending calls on close', async () => {
    const channel = createChannel();
    const connection = await connect(channel);

    const result = channel.add(1, 2);
    await connection.frame(1);
    connection.terminate();

    await expect(result).rejects.toMatchObject({ code: CONNECTION_CLOSED });
  });

  it('rejects without a subscriber', async () => {
    const channel = createChannel();

    await expect(channel.add(1, 2)).rejects.toMatchObject({ code: CONNECTION_CLOSED });
  });

  it('sends calls made while connecting', async () => {
    const channel = createChannel();
    unsubscribers.push(channel.subscribe(() => {}));
    const result = channel.add(2, 3);

    const connection = await server.connection(0);
    await connection.frame(0);
    connection.send({ type: 'auth', statusCode: 200 });
    const frame = await connection.frame(1);
    connection.send({ type: 'actionResponse', callId: frame.callId, result: 5 });

    await expect(result).resolves.toBe(5);
  });
});

describe('ContextChannel runtime state and events', () => {
  it('applies runtime state and vars', async () => {
    const channel = createChannel();
    const connection = await connect(channel);

    connection.send({ type: 'runtimeState', state: { viewers: 1, last_event: '' } });
    connection.send({ type: 'runtimeVar', var: 'viewers', value: 2 });
    await waitFor(() => channel.getSnapshot().runtimeState.viewers === 2);
    const first = channel.getSnapshot().runtimeState;

    connection.send({ type: 'runtimeVar', var: 'last_event', value: 'joined' });
    await waitFor(() => channel.getSnapshot().runtimeState.last_event === 'joined');

    expect(channel.getSnapshot().runtimeState).toEqual({ viewers: 2, last_event: 'joined' });
    expect(first).toEqual({ viewers: 2, last_event: '' });
  });

  it('emits notifications', async () => {
    const channel = createChannel();
    const payloads: unknown[] = [];
    const off = channel.on('notification', (payload) => payloads.push(payload));
    const connection = await connect(channel);

    connection.send({ type: 'notification', payload: { text: 'hi' } });
    await waitFor(() => payloads.length === 1);
    off();
    connection.send({ type: 'notification', payload: { text: 'ignored' } });
    connection.send({ type: 'system', message: 'flush' });
    await new Promise((resolve) => setTimeout(resolve, 30));

    expect(payloads).toEqual([{ text: 'hi' }]);
  });

  it('emits system and maintenance messages', async () => {
    const channel = createChannel();
    const messages: string[] = [];
    channel.on('system', (message) => messages.push(`system: ${message}`));
    channel.on('maintenance', (message) => messages.push(`maintenance: ${message}`));
    const connection = await connect(channel);

    connection.send({ type: 'system', message: 'hello' });
    connection.send({ type: 'maintenance', message: 'deploying' });
    await waitFor(() => messages.length === 2);

    expect(messages).toEqual(['system: hello', 'maintenance: deploying']);
    await server.connection(1);
  });

  it('emits server error frames', async () => {
    const channel = createChannel();
    const errors: ChannelError[] = [];
    channel.on('error', (error) => errors.push(error));
    const connection = await connect(channel);

    connection.send({ type: 'error', code: 400, message: 'frame is not valid JSON' });
    await waitFor(() => errors.length === 1);

    expect(errors[0]).toMatchObject({ code: 400, message: 'frame is not valid JSON' });
    expect(channel.getSnapshot().error).toBeNull();
  });

  it('survives a failing handler', async () => {
    const channel = createChannel();
    const payloads: unknown[] = [];
    channel.on('notification', () => {
      throw new Error('handler failed');
    });
    channel.on('notification', (payload) => payloads.push(payload));
    const connection = await connect(channel);

    connection.send({ type: 'notification', payload: 1 });
    await waitFor(() => payloads.length === 1);

    expect(payloads).toEqual([1]);
  });
});

describe('ContextChannel reconnection', () => {
  it('resumes with lastUpdate and keeps state', async () => {
    const channel = createChannel();
    const first = await connect(channel);
    sendProject(first);
    await waitFor(() => channel.getSnapshot().loaded);
    const before = channel.getSnapshot().state;

    first.terminate();
    await waitFor(() => channel.getSnapshot().noConnectionSince !== null);
    const second = await server.connection(1);

    expect(await second.frame(0)).toMatchObject({ type: 'auth', lastUpdate: 10 });
    second.send({ type: 'auth', statusCode: 200 });
    second.send({ type: 'initialAnchors', anchorIds: [1] });
    second.send({ type: 'initialStateEnd', anchorId: 1, tstamp: 20 });
    await waitFor(() => channel.getSnapshot().connected);
    expect(channel.getSnapshot().state).toBe(before);
  });
});
