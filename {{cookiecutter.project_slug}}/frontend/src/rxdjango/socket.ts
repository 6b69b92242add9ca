import { parseServerFrame, type ClientFrame, type ServerFrame } from './protocol';
import {
  ChannelError,
  type BackoffOptions,
  type ConnectionStatus,
  type InstanceId,
  type Logger,
  type Timers,
  type WebSocketConstructor,
} from './types';

// WebSocket close codes sent by the server: 4000 plus an HTTP-like status.
export const CLOSE_AUTH_FAILED = 4401;
export const CLOSE_FORBIDDEN = 4403;
export const CLOSE_NOT_FOUND = 4404;
export const CLOSE_AUTH_TIMEOUT = 4408;
export const CLOSE_SLOW_CONSUMER = 4429;

const FATAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  CLOSE_AUTH_FAILED,
  CLOSE_FORBIDDEN,
  CLOSE_NOT_FOUND,
]);

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 30_000 };

export const defaultTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Returns the delay before reconnection attempt `attempt` (0 for the first retry): the
 * exponential delay `initialMs * 2^attempt`, capped at `maxMs`, with jitter that keeps
 * it between half that value and the full value.
 */
export function backoffDelay(
  attempt: number,
  backoff: BackoffOptions,
  random: () => number,
): number {
  const capped = Math.min(backoff.maxMs, backoff.initialMs * 2 ** attempt);
  return capped / 2 + (random() * capped) / 2;
}

/**
 * The `lastUpdate` a reconnection sends: the newest server timestamp among
 * `initialStateEnd` frames and received instances. It advances only while no anchor
 * is in its initial load, because a connection lost during a load has not received
 * every instance older than the newest timestamp seen.
 */
export class ResumePoint {
  lastUpdate: number | null = null;
  private newest: number | null = null;
  private loading = new Set<InstanceId>();

  observe(frame: ServerFrame): void {
    switch (frame.type) {
      case 'initialAnchors':
        this.loading = new Set(frame.anchorIds);
        break;
      case 'prependAnchor':
      case 'appendAnchor':
        this.loading.add(frame.anchorId);
        break;
      case 'removeAnchor':
        this.loading.delete(frame.anchorId);
        break;
      case 'clearAnchors':
        this.loading.clear();
        break;
      case 'initialStateEnd':
        this.loading.delete(frame.anchorId);
        this.advance(frame.tstamp);
        break;
      case 'instances':
        for (const instance of frame.instances) {
          this.advance(instance._tstamp);
        }
        break;
      default:
        return;
    }

    if (this.loading.size === 0 && this.newest !== null) {
      this.lastUpdate = this.newest;
    }
  }

  private advance(tstamp: number): void {
    if (typeof tstamp === 'number' && (this.newest === null || tstamp > this.newest)) {
      this.newest = tstamp;
    }
  }
}

export interface SocketHandlers {
  /** Receives every valid server frame, after the socket has handled it. */
  frame(frame: ServerFrame): void;
  /** Runs when status, noConnectionSince or error change. */
  statusChange(): void;
  /** Runs when a WebSocket closes, so that requests it carried will get no response. */
  closed(): void;
}

export interface SocketOptions {
  url: string;
  token: string;
  WebSocket: WebSocketConstructor;
  backoff: BackoffOptions;
  timers: Timers;
  random: () => number;
  now: () => number;
  logger: Logger;
}

/**
 * A persistent, authenticated WebSocket. It sends the auth frame first, reconnects with
 * capped exponential backoff and jitter, and resumes from the last update it saw.
 * Invalid tokens, forbidden and missing anchors stop it for good with `error` set.
 */
export class ChannelSocket {
  status: ConnectionStatus = 'idle';
  noConnectionSince: number | null = null;
  error: ChannelError | null = null;
  readonly resume = new ResumePoint();

  private readonly options: SocketOptions;
  private readonly handlers: SocketHandlers;
  private socket: WebSocket | null = null;
  /** Reconnection attempts since the last authenticated connection. */
  private attempt = 0;
  private retryTimer: unknown = null;
  /** Frames sent before authentication, delivered once the server accepts the token. */
  private outbox: { frame: ClientFrame; text: string }[] = [];
  /** The error of a rejected auth frame, applied when the server closes the socket. */
  private authFailure: ChannelError | null = null;

  constructor(options: SocketOptions, handlers: SocketHandlers) {
    this.options = options;
    this.handlers = handlers;
  }

  /** Starts connecting, unless the socket is already open or trying to be. */
  open(): void {
    if (this.status !== 'idle' && this.status !== 'closed') {
      return;
    }
    this.attempt = 0;
    this.noConnectionSince = this.options.now();
    this.connect();
  }

  /** Closes the connection and stops reconnecting. */
  close(): void {
    this.cancelRetry();
    const socket = this.socket;
    this.socket = null;
    this.outbox = [];
    if (this.status !== 'failed') {
      this.setStatus('closed');
    }
    this.noConnectionSince = null;

    if (socket !== null) {
      socket.close(1000, 'client closed the channel');
      this.handlers.closed();
    }
    this.handlers.statusChange();
  }

  /** Sends a frame now when authenticated, otherwise once authentication succeeds. */
  send(frame: ClientFrame): void {
    const text = JSON.stringify(frame);
    if (this.status === 'connected' && this.socket !== null) {
      this.socket.send(text);
    } else {
      this.outbox.push({ frame, text });
    }
  }

  /**
   * Removes a frame that waits for authentication, so that it is never sent. Returns false
   * when the frame is not waiting, because it was sent already or dropped with a closed socket.
   */
  withdraw(frame: ClientFrame): boolean {
    const index = this.outbox.findIndex((queued) => queued.frame === frame);
    if (index === -1) {
      return false;
    }
    this.outbox.splice(index, 1);
    return true;
  }

  private connect(): void {
    this.retryTimer = null;
    this.authFailure = null;

    let socket: WebSocket;
    try {
      socket = new this.options.WebSocket(this.options.url);
    } catch (error) {
      this.fail(
        new ChannelError(
          400,
          `Creating a WebSocket for ${this.options.url} failed: ${String(error)}`,
        ),
      );
      return;
    }
    this.socket = socket;
    this.setStatus('connecting');

    // Events of a socket that was replaced or closed by the client are ignored.
    socket.onopen = () => {
      if (this.socket === socket) this.authenticate(socket);
    };
    socket.onmessage = (event: MessageEvent) => {
      if (this.socket === socket) this.receive(event.data);
    };
    socket.onclose = (event: CloseEvent) => {
      if (this.socket === socket) this.handleClose(event.code, event.reason);
    };
    // A close event follows every error event and carries the code that decides what to do.
    socket.onerror = () => {};
  }

  private authenticate(socket: WebSocket): void {
    this.setStatus('authenticating');
    const frame: ClientFrame = {
      type: 'auth',
      token: this.options.token,
      lastUpdate: this.resume.lastUpdate,
    };
    socket.send(JSON.stringify(frame));
  }

  private receive(data: unknown): void {
    const parsed = parseServerFrame(data);
    if ('problem' in parsed) {
      this.options.logger.warn(
        `rxdjango: ignored a frame from ${this.options.url}: ${parsed.problem}`,
      );
      return;
    }
    const frame = parsed.frame;
    this.resume.observe(frame);

    if (frame.type === 'auth') {
      this.receiveAuth(frame.statusCode, frame.error);
    }
    this.handlers.frame(frame);
    if (frame.type === 'maintenance') {
      this.restart(frame.message);
    }
  }

  private receiveAuth(statusCode: number, error: string | undefined): void {
    if (statusCode !== 200) {
      this.authFailure = new ChannelError(
        statusCode,
        error ?? `authentication failed with status ${statusCode}`,
      );
      this.options.logger.warn(
        `rxdjango: ${this.options.url} rejected the auth frame: ${statusCode} ${error ?? ''}`,
      );
      return;
    }

    this.attempt = 0;
    this.noConnectionSince = null;
    this.error = null;
    this.setStatus('connected');

    const queued = this.outbox;
    this.outbox = [];
    for (const { text } of queued) {
      this.socket?.send(text);
    }
  }

  /** Closes the socket for a server maintenance and reconnects after a backoff delay. */
  private restart(message: string): void {
    const socket = this.socket;
    if (socket === null) {
      return;
    }
    this.options.logger.info(`rxdjango: server maintenance on ${this.options.url}: ${message}`);
    this.socket = null;
    socket.close(1000, 'server maintenance');
    this.lostConnection(this.nextDelay());
  }

  private handleClose(code: number, reason: string): void {
    this.socket = null;

    const failure = this.closeFailure(code, reason);
    if (failure !== null) {
      this.outbox = [];
      this.handlers.closed();
      this.fail(failure);
      return;
    }

    // A slow consumer is closed by the server to resume from lastUpdate, so the first
    // retry after an authenticated connection runs at once.
    const delay = code === CLOSE_SLOW_CONSUMER && this.attempt === 0 ? 0 : this.nextDelay();
    this.options.logger.info(
      `rxdjango: connection to ${this.options.url} closed with code ${code}; reconnecting in ${Math.round(delay)} ms`,
    );
    this.lostConnection(delay);
  }

  /** Returns the error that ends the connection for a close code, or null when it is worth retrying. */
  private closeFailure(code: number, reason: string): ChannelError | null {
    if (code === CLOSE_AUTH_TIMEOUT || code === CLOSE_SLOW_CONSUMER) {
      return null;
    }
    if (FATAL_CLOSE_CODES.has(code)) {
      return (
        this.authFailure ??
        new ChannelError(code - 4000, reason || `connection closed with code ${code}`)
      );
    }
    return this.authFailure;
  }

  private nextDelay(): number {
    const delay = backoffDelay(this.attempt, this.options.backoff, this.options.random);
    this.attempt += 1;
    return delay;
  }

  private lostConnection(delay: number): void {
    this.outbox = [];
    this.handlers.closed();
    if (this.noConnectionSince === null) {
      this.noConnectionSince = this.options.now();
    }
    this.setStatus('waiting');
    this.retryTimer = this.options.timers.setTimeout(() => this.connect(), delay);
  }

  private fail(error: ChannelError): void {
    this.options.logger.warn(
      `rxdjango: connection to ${this.options.url} stopped: ${error.code} ${error.message}`,
    );
    this.error = error;
    this.setStatus('failed');
  }

  private cancelRetry(): void {
    if (this.retryTimer !== null) {
      this.options.timers.clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
  }

  private setStatus(status: ConnectionStatus): void {
    this.status = status;
    this.handlers.statusChange();
  }
}
