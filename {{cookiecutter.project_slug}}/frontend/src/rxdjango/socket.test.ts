import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { ServerFrame } from './protocol';
import { ChannelSocket, ResumePoint, backoffDelay } from './socket';
import { TestServer, TestWebSocket, recordingTimers, silentLogger, waitFor } from './test/wsServer';

let server: TestServer;
let sockets: ChannelSocket[];

beforeEach(async () => {
  server = await TestServer.start();
  sockets = [];
});

afterEach(async () => {
  for (const socket of sockets) socket.close();
  await server.stop();
});

function openSocket(options: { random?: () => number; initialMs?: number; maxMs?: number } = {}) {
  const timers = recordingTimers();
  const frames: ServerFrame[] = [];
  let closedCount = 0;
  const socket = new ChannelSocket(
    {
      url: `${server.baseUrl}/ws/project/7/`,
      token: 'secret-token',
      WebSocket: TestWebSocket,
      backoff: { initialMs: options.initialMs ?? 100, maxMs: options.maxMs ?? 1000 },
      timers,
      random: options.random ?? (() => 0.5),
      now: () => 1_000,
      logger: silentLogger,
    },
    {
      frame: (frame) => frames.push(frame),
      statusChange: () => {},
      closed: () => {
        closedCount += 1;
      },
    },
  );
  sockets.push(socket);
  socket.open();
  return { socket, timers, frames, closedCount: () => closedCount };
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

describe('ChannelSocket', () => {
  it('sends auth first', async () => {
    openSocket();

    const connection = await server.connection(0);

    expect(connection.path).toBe('/ws/project/7/');
    expect(await connection.frame(0)).toEqual({
      type: 'auth',
      token: 'secret-token',
      lastUpdate: null,
    });
  });

  it('reports connection status', async () => {
    const { socket } = openSocket();
    expect(socket.status).toBe('connecting');
    expect(socket.noConnectionSince).toBe(1_000);

    const connection = await server.connection(0);
    await connection.frame(0);
    connection.send({ type: 'auth', statusCode: 200 });
    await waitFor(() => socket.status === 'connected');

    expect(socket.noConnectionSince).toBeNull();
    expect(socket.error).toBeNull();
  });

  it('passes frames to the handler', async () => {
    const { frames } = openSocket();
    const connection = await server.connection(0);
    await connection.frame(0);

    connection.send({ type: 'auth', statusCode: 200 });
    connection.send({ type: 'system', message: 'hello' });
    await waitFor(() => frames.length === 2);

    expect(frames[1]).toEqual({ type: 'system', message: 'hello' });
  });

  it('ignores invalid frames', async () => {
    const { frames } = openSocket();
    const connection = await server.connection(0);
    await connection.frame(0);

    connection.send({ type: 'initialAnchors', anchorIds: 'nope' });
    connection.send({ type: 'unknown' });
    connection.send({ type: 'system', message: 'after' });
    await waitFor(() => frames.length === 1);

    expect(frames[0]).toEqual({ type: 'system', message: 'after' });
  });

  it('queues frames until authenticated', async () => {
    const { socket } = openSocket();
    socket.send({ type: 'action', callId: 1, action: 'add', params: [1, 2] });

    const connection = await server.connection(0);
    expect(await connection.frame(0)).toMatchObject({ type: 'auth' });
    connection.send({ type: 'auth', statusCode: 200 });

    expect(await connection.frame(1)).toEqual({
      type: 'action',
      callId: 1,
      action: 'add',
      params: [1, 2],
    });
  });

  it('resumes with lastUpdate after a drop', async () => {
    const { socket, timers, closedCount } = openSocket();
    const first = await server.connection(0);
    await first.frame(0);
    first.send({ type: 'auth', statusCode: 200 });
    first.send({ type: 'initialAnchors', anchorIds: [7] });
    first.send({
      type: 'instances',
      instances: [{ id: 7, _instance_type: 'p', _tstamp: 5, _operation: 'initial_state' }],
    });
    first.send({ type: 'initialStateEnd', anchorId: 7, tstamp: 10 });
    first.send({
      type: 'instances',
      instances: [{ id: 7, _instance_type: 'p', _tstamp: 12.5, _operation: 'update' }],
    });
    await waitFor(() => socket.resume.lastUpdate === 12.5);

    first.terminate();
    const second = await server.connection(1);

    expect(await second.frame(0)).toEqual({
      type: 'auth',
      token: 'secret-token',
      lastUpdate: 12.5,
    });
    expect(timers.delays).toEqual([75]);
    expect(closedCount()).toBe(1);
  });

  it('stops retrying on 401', async () => {
    const { socket, closedCount } = openSocket();
    const connection = await server.connection(0);
    await connection.frame(0);

    connection.send({ type: 'auth', statusCode: 401, error: 'invalid or expired token' });
    connection.close(4401, 'auth failed');
    await waitFor(() => socket.status === 'failed');
    await sleep(50);

    expect(socket.error?.code).toBe(401);
    expect(socket.error?.message).toBe('invalid or expired token');
    expect(server.connections).toHaveLength(1);
    expect(closedCount()).toBe(1);
  });

  it.each([
    [4403, 403],
    [4404, 404],
  ])('stops retrying on close code %i', async (closeCode, errorCode) => {
    const { socket } = openSocket();
    const connection = await server.connection(0);
    await connection.frame(0);

    connection.close(closeCode, 'refused');
    await waitFor(() => socket.status === 'failed');
    await sleep(50);

    expect(socket.error?.code).toBe(errorCode);
    expect(socket.error?.message).toBe('refused');
    expect(server.connections).toHaveLength(1);
  });

  it('retries after an auth timeout', async () => {
    const { socket, timers } = openSocket();
    const first = await server.connection(0);
    await first.frame(0);

    first.send({ type: 'auth', statusCode: 401, error: 'no auth frame received in time' });
    first.close(4408, 'auth timeout');
    const second = await server.connection(1);

    expect(await second.frame(0)).toMatchObject({ type: 'auth' });
    expect(timers.delays).toEqual([75]);
    expect(socket.error).toBeNull();
  });

  it('retries at once on 4429', async () => {
    const { timers } = openSocket();
    const first = await server.connection(0);
    await first.frame(0);
    first.send({ type: 'auth', statusCode: 200 });
    first.send({ type: 'initialAnchors', anchorIds: [7] });
    first.send({ type: 'initialStateEnd', anchorId: 7, tstamp: 42 });
    await sleep(20);

    first.close(4429, 'slow consumer');
    const second = await server.connection(1);

    expect(await second.frame(0)).toMatchObject({ lastUpdate: 42 });
    expect(timers.delays).toEqual([0]);
  });

  it('reconnects after maintenance', async () => {
    const { frames, timers } = openSocket();
    const first = await server.connection(0);
    await first.frame(0);
    first.send({ type: 'auth', statusCode: 200 });

    first.send({ type: 'maintenance', message: 'deploying' });
    const closed = await first.closed;
    const second = await server.connection(1);

    expect(closed.code).toBe(1000);
    expect(frames.at(-1)).toEqual({ type: 'maintenance', message: 'deploying' });
    expect(timers.delays).toEqual([75]);
    expect(await second.frame(0)).toMatchObject({ type: 'auth' });
  });

  it('backoff grows and is capped', async () => {
    const { socket, timers } = openSocket({ random: () => 1, initialMs: 100, maxMs: 1000 });

    for (let index = 0; index < 7; index += 1) {
      const connection = await server.connection(index);
      connection.close(1011, 'server error');
    }
    await waitFor(() => timers.delays.length === 7);
    socket.close();

    expect(timers.delays).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it('resets backoff after authentication', async () => {
    const { timers } = openSocket({ random: () => 1 });
    (await server.connection(0)).close(1011);
    (await server.connection(1)).close(1011);

    const third = await server.connection(2);
    await third.frame(0);
    third.send({ type: 'auth', statusCode: 200 });
    await sleep(20);
    third.close(1011);
    await server.connection(3);

    expect(timers.delays).toEqual([100, 200, 100]);
  });

  it('close stops reconnecting', async () => {
    const { socket } = openSocket();
    const connection = await server.connection(0);
    await connection.frame(0);

    socket.close();
    const closed = await connection.closed;
    await sleep(50);

    expect(closed.code).toBe(1000);
    expect(socket.status).toBe('closed');
    expect(server.connections).toHaveLength(1);
  });
});

describe('backoffDelay', () => {
  it('keeps jitter within bounds', () => {
    const backoff = { initialMs: 100, maxMs: 1000 };
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const capped = Math.min(1000, 100 * 2 ** attempt);
      for (const random of [0, 0.25, 0.5, 0.999]) {
        const delay = backoffDelay(attempt, backoff, () => random);
        expect(delay).toBeGreaterThanOrEqual(capped / 2);
        expect(delay).toBeLessThanOrEqual(capped);
      }
    }
  });

  it('spreads delays with jitter', () => {
    const delays = new Set(
      [0, 0.3, 0.6, 0.9].map((random) =>
        backoffDelay(3, { initialMs: 100, maxMs: 10_000 }, () => random),
      ),
    );

    expect(delays.size).toBe(4);
  });
});

describe('ResumePoint', () => {
  const instance = (tstamp: number) => ({
    id: 1,
    _instance_type: 'p',
    _tstamp: tstamp,
    _operation: 'update' as const,
  });

  it('waits for every anchor to load', () => {
    const resume = new ResumePoint();
    resume.observe({ type: 'initialAnchors', anchorIds: [1, 2] });
    resume.observe({ type: 'instances', instances: [instance(30)] });
    resume.observe({ type: 'initialStateEnd', anchorId: 1, tstamp: 20 });

    expect(resume.lastUpdate).toBeNull();

    resume.observe({ type: 'initialStateEnd', anchorId: 2, tstamp: 25 });

    expect(resume.lastUpdate).toBe(30);
  });

  it('holds while an added anchor loads', () => {
    const resume = new ResumePoint();
    resume.observe({ type: 'initialAnchors', anchorIds: [] });
    resume.observe({ type: 'instances', instances: [instance(10)] });
    expect(resume.lastUpdate).toBe(10);

    resume.observe({ type: 'appendAnchor', anchorId: 3 });
    resume.observe({ type: 'instances', instances: [instance(15)] });
    expect(resume.lastUpdate).toBe(10);

    resume.observe({ type: 'initialStateEnd', anchorId: 3, tstamp: 14 });
    expect(resume.lastUpdate).toBe(15);
  });
});
