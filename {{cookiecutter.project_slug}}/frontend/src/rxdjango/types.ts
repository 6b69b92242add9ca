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
  /**
   * Instance types whose writes show in the state before the server confirms them (their
   * serializer sets `Meta.optimistic = True`), mapped to their `optimistic_timeout` in
   * milliseconds. Writes to the other writable types show once the server broadcasts them.
   * Without this field, every writable type is optimistic with `ChannelOptions.optimisticTimeoutMs`.
   */
  optimisticTimeoutMs?: Record<string, number>;
}

/** A write operation that a channel may allow on an instance type. */
export type WriteOperation = 'save' | 'create' | 'delete';

/** The operations each instance type allows, as the `writable` of a generated channel class lists them. */
export type WritableDeclaration = Readonly<Record<string, readonly WriteOperation[]>>;

/** Validation errors of a rejected write: messages by field name, as DRF reports them. */
export type FieldErrors = Readonly<Record<string, readonly string[]>>;

/**
 * An error reported by the server or by the connection. `code` is an HTTP status code
 * (400 invalid data, 401 invalid token, 403 forbidden, 404 not found, 500 server error),
 * 503 when the connection closed before the response arrived, or 504 when a write was
 * not confirmed within its optimistic timeout. `fields` contains the validation errors of a
 * write that the server rejected with 400, when it sent them.
 */
export class ChannelError extends Error {
  readonly code: number;
  // Declared only, so that an error without field errors has no `fields` property at all.
  declare readonly fields?: FieldErrors;

  constructor(code: number, message: string, fields?: FieldErrors) {
    super(message);
    this.name = 'ChannelError';
    this.code = code;
    if (fields !== undefined) {
      this.fields = fields;
    }
  }
}

/** Code of the error that rejects requests when the connection closes before the response arrives. */
export const CONNECTION_CLOSED = 503;

/** A write that waits for the server's confirmation. */
export interface PendingWrite {
  writeId: number;
  operation: WriteOperation;
  instanceType: string;
  /** The written instance. For a create, the temporary (negative) id of the instance shown until the server's instance replaces it. */
  instanceId: InstanceId;
}

// The write methods are bound functions, so they work when passed on alone, as in
// `onClick={task.delete}`. They are non-enumerable properties, so JSON and deep equality
// see only the serializer fields.

/** An object of the built state whose instance type allows save. */
export interface Savable<TPayload> {
  /**
   * Sends the fields to the server and shows them at once. Resolves when the server
   * confirms the write, and rejects with a ChannelError after rolling the fields back.
   */
  readonly save: (data: Partial<TPayload>) => Promise<void>;
}

/** An object of the built state whose instance type allows delete. */
export interface Deletable {
  /**
   * Deletes the instance on the server and removes it from the state at once. Resolves
   * when the server confirms the delete, and rejects with a ChannelError after putting
   * the instance back.
   */
  readonly delete: () => Promise<void>;
}

/** A relation array of the built state whose child type allows create. */
export interface Creatable<TInstance, TPayload> {
  /**
   * Creates an instance in this relation on the server, showing a temporary instance with
   * a negative id at once. Resolves with the created instance once the server's instance
   * has replaced the temporary one, and rejects with a ChannelError after removing it.
   */
  readonly create: (data?: Partial<TPayload>) => Promise<TInstance>;
}

/** An array of instances that also has the `create` method of its relation. */
export type CreatableList<TInstance, TPayload> = TInstance[] & Creatable<TInstance, TPayload>;

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
  /**
   * Time in milliseconds after which the server's state replaces a write that the server
   * has not confirmed, for instance types that the channel model gives no timeout. The
   * default is 5000.
   */
  optimisticTimeoutMs?: number;
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
  /** Writes sent and not confirmed by the server yet, oldest first. */
  pendingWrites: readonly PendingWrite[];
}
