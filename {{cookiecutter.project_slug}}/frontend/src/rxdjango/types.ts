/** Primary key of an instance, as the server serializes it (an integer or a string such as a UUID). */
export type InstanceId = number | string;

export type Operation = 'initial_state' | 'create' | 'update' | 'delete';

/**
 * An instance as the server sends it: nested serializer fields hold the related id
 * (null for an empty to-one relation) or an array of ids for a to-many relation.
 * An "update" may be a delta that carries only the changed fields plus the meta fields.
 */
export interface FlatInstance {
  id: InstanceId;
  _instance_type: string;
  _tstamp: number;
  _operation: Operation;
  [field: string]: unknown;
}

/** Stand-in for a referenced instance that the client has not received yet. */
export interface UnloadedInstance {
  id: InstanceId;
  _instance_type: string;
  _loaded: false;
}

/** A nested field value in the built state: the instance, or its placeholder until it arrives. */
export type Loadable<T> = T | UnloadedInstance;

/** Returns false for the placeholder of an instance that has not arrived yet. */
export function isLoaded<T extends object>(value: Loadable<T>): value is T {
  return (value as Partial<UnloadedInstance>)._loaded !== false;
}

/**
 * The layer structure of a channel, as `manage.py makefrontend` generates it.
 * `layers` maps each instance type to its nested fields (field name to child instance type),
 * and `lists` names the nested fields that hold arrays.
 */
export interface ChannelModel {
  anchor: string;
  many: boolean;
  layers: Record<string, Record<string, string>>;
  lists: Record<string, string[]>;
}

/**
 * An error reported by the server or by the connection. `code` is an HTTP status code
 * (401 invalid token, 403 forbidden, 404 not found, 500 server error), or 503 when the
 * connection closed before the response arrived.
 */
export class ChannelError extends Error {
  readonly code: number;

  constructor(code: number, message: string) {
    super(message);
    this.name = 'ChannelError';
    this.code = code;
  }
}

export interface BackoffOptions {
  /** Delay before the first reconnection attempt, in milliseconds. */
  initialMs: number;
  /** Upper bound of the delay between attempts, in milliseconds. */
  maxMs: number;
}

/** Timer functions, replaceable in tests. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface Logger {
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

/** The WebSocket class to use. The browser's `WebSocket` satisfies it. */
export type WebSocketConstructor = new (url: string) => WebSocket;

export interface ChannelOptions {
  /** Origin of the WebSocket server, such as "wss://example.com". An http(s) URL is mapped to ws(s), and the default is the page's host. */
  baseUrl?: string;
  WebSocket?: WebSocketConstructor;
  backoff?: BackoffOptions;
  timers?: Timers;
  /** Source of the reconnection jitter, returning numbers in [0, 1). */
  random?: () => number;
  /** Clock for `noConnectionSince`, in milliseconds since the epoch. */
  now?: () => number;
  logger?: Logger;
}

export type ConnectionStatus =
  | 'idle'
  | 'connecting'
  | 'authenticating'
  | 'connected'
  | 'waiting'
  | 'closed'
  | 'failed';

/** Everything a view of the channel renders; a new object whenever any part changes. */
export interface ChannelSnapshot<TState, TRuntime> {
  /** The anchor's nested state (an array of anchors for a list channel), undefined until the anchor arrives. */
  state: TState | TState[] | undefined;
  runtimeState: TRuntime;
  /** True while the socket is authenticated. */
  connected: boolean;
  /** Time (ms since the epoch) since when the channel has had no authenticated connection, or null. */
  noConnectionSince: number | null;
  /** The error that stopped the connection (such as an invalid token), or null. */
  error: ChannelError | null;
  /** True when the server listed the channel's anchors and there are none. */
  empty: boolean;
  /** True when every listed anchor has finished its initial load. */
  loaded: boolean;
}
