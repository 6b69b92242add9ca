import { writeFileSync } from 'node:fs';

import { WebSocket as NodeWebSocket } from 'ws';
import { expect, it } from 'vitest';

import { BoardChannel, type BoardChannelBoard } from '../src/generated/board.channels';
import type { ChannelSnapshot, WebSocketConstructor } from '../src/rxdjango';

type BoardSnapshot = ChannelSnapshot<BoardChannelBoard, unknown>;

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`${name} is not set: run this test through e2e/test_generated_client.py.`);
  }
  return value;
}

const serverUrl = requiredEnv('RX_SERVER_URL');

/** A `ws` WebSocket that sends the server's own Origin, as a page served by Django would. */
class SameOriginWebSocket extends NodeWebSocket {
  constructor(url: string) {
    super(url, { origin: serverUrl });
  }
}

/** Resolves with the first snapshot that satisfies `accept`, and fails after `timeoutMs`. */
function nextSnapshot(
  channel: BoardChannel,
  accept: (snapshot: BoardSnapshot) => boolean,
  timeoutMs = 15_000,
): Promise<BoardSnapshot> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const snapshot = channel.getSnapshot() as BoardSnapshot;
      if (snapshot.error !== null) {
        finish();
        reject(snapshot.error);
      } else if (accept(snapshot)) {
        finish();
        resolve(snapshot);
      }
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`no matching snapshot within ${timeoutMs} ms`));
    }, timeoutMs);
    const unsubscribe = channel.subscribe(check);
    const finish = () => {
      clearTimeout(timer);
      unsubscribe();
    };
    check();
  });
}

function taskTitle(snapshot: BoardSnapshot, taskId: number): string | undefined {
  const board = snapshot.state as BoardChannelBoard | undefined;
  return board?.tasks.find((task) => task.id === taskId)?.title;
}

it('receives a Django save() in its state', async () => {
  const taskId = Number(requiredEnv('RX_TASK_ID'));
  const channel = new BoardChannel({ board_id: Number(requiredEnv('RX_BOARD_ID')) }, requiredEnv('RX_TOKEN'), {
    baseUrl: serverUrl,
    WebSocket: SameOriginWebSocket as unknown as WebSocketConstructor,
  });
  // The channel keeps its socket open while it has a subscriber.
  const unsubscribe = channel.subscribe(() => undefined);
  try {
    const loaded = await nextSnapshot(channel, (snapshot) => snapshot.loaded);
    expect(taskTitle(loaded, taskId)).toBe(requiredEnv('RX_TITLE_BEFORE'));

    // The Python side saves the task once this file exists.
    writeFileSync(requiredEnv('RX_READY_FILE'), 'loaded\n');

    const expected = requiredEnv('RX_TITLE_AFTER');
    const updated = await nextSnapshot(channel, (snapshot) => taskTitle(snapshot, taskId) === expected);
    expect(updated.connected).toBe(true);
  } finally {
    unsubscribe();
  }
});
