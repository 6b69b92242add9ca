import type { AddressInfo } from 'node:net';

import { WebSocket as NodeWebSocket, WebSocketServer } from 'ws';

import type { Logger, Timers, WebSocketConstructor } from '../types';

/**
 * The `ws` client, which has the browser's onopen, onmessage and onclose properties.
 * The tests use it because jsdom cannot dispatch the events of the WebSocket that
 * Vitest's jsdom environment exposes.
 */
export const TestWebSocket = NodeWebSocket as unknown as WebSocketConstructor;

/** Returns a WebSocket class that counts the sockets created with it. */
export function countingWebSocket(): { WebSocket: WebSocketConstructor; created: () => number } {
  let created = 0;
  class CountingWebSocket extends NodeWebSocket {
    constructor(url: string) {
      super(url);
      created += 1;
    }
  }
  return {
    WebSocket: CountingWebSocket as unknown as WebSocketConstructor,
    created: () => created,
  };
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };

/** One connection accepted by the test server, recording the frames it receives. */
export class ServerConnection {
  readonly path: string;
  readonly received: Record<string, unknown>[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly socket: NodeWebSocket;
  private waiters: (() => void)[] = [];

  constructor(socket: NodeWebSocket, path: string) {
    this.socket = socket;
    this.path = path;
    socket.on('message', (data: Buffer) => {
      this.received.push(JSON.parse(data.toString()) as Record<string, unknown>);
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', (code: number, reason: Buffer) =>
        resolve({ code, reason: reason.toString() }),
      );
    });
  }

  /** Resolves with the received frame number `index`, waiting for it when needed. */
  async frame(index: number): Promise<Record<string, unknown>> {
    for (;;) {
      const frame = this.received[index];
      if (frame !== undefined) return frame;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  send(frame: object): void {
    this.socket.send(JSON.stringify(frame));
  }

  close(code?: number, reason?: string): void {
    this.socket.close(code, reason);
  }

  /** Drops the TCP connection without a closing handshake, as a network failure would. */
  terminate(): void {
    this.socket.terminate();
  }
}

/** A WebSocket server on 127.0.0.1 at a free port, for the tests of this folder. */
export class TestServer {
  readonly connections: ServerConnection[] = [];
  private readonly server: WebSocketServer;
  private waiters: (() => void)[] = [];

  private constructor(server: WebSocketServer) {
    this.server = server;
    server.on('connection', (socket, request) => {
      this.connections.push(new ServerConnection(socket, request.url ?? ''));
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    });
  }

  static async start(): Promise<TestServer> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    return new TestServer(server);
  }

  get baseUrl(): string {
    const address = this.server.address() as AddressInfo;
    return `ws://127.0.0.1:${address.port}`;
  }

  /** Resolves with accepted connection number `index`, waiting for it when needed. */
  async connection(index: number): Promise<ServerConnection> {
    for (;;) {
      const connection = this.connections[index];
      if (connection !== undefined) return connection;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  async stop(): Promise<void> {
    for (const client of this.server.clients) client.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Timers that record every requested delay and run callbacks after `actualMs`, so that
 * tests observe the backoff without waiting for it.
 */
export function recordingTimers(actualMs = 1): Timers & { delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    setTimeout(callback, ms) {
      delays.push(ms);
      return setTimeout(callback, Math.min(ms, actualMs));
    },
    clearTimeout(handle) {
      clearTimeout(handle as ReturnType<typeof setTimeout>);
    },
  };
}

/** Resolves once `condition` returns true, checking every 5 ms, and rejects after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`Condition not met within ${timeoutMs} ms: ${condition.toString()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
