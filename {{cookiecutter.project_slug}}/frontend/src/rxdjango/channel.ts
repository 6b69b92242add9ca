import { isFlatInstance, type ErrorBody, type ServerFrame } from './protocol';
import { ChannelSocket, DEFAULT_BACKOFF, defaultTimers } from './socket';
import { StateBuilder, type BuiltInstance, type WriteMethods } from './stateBuilder';
import {
  CONNECTION_CLOSED,
  ChannelError,
  type ChannelModel,
  type ChannelOptions,
  type ChannelSnapshot,
  type FlatInstance,
  type InstanceId,
  type Timers,
  type WritableDeclaration,
} from './types';
import { DEFAULT_OPTIMISTIC_TIMEOUT_MS, WriteTracker, isPending } from './writes';

/** Payloads of the events a channel emits through `on`. */
export interface ChannelEvents {
  notification: unknown;
  system: string;
  maintenance: string;
  error: ChannelError;
}

export type ChannelEventName = keyof ChannelEvents;

/** Values of the URL parameters of a channel's route, such as `{ project_id: 7 }`. */
export type RouteKwargs = Record<string, string | number>;

interface PendingCall {
  action: string;
  resolve(result: unknown): void;
  reject(error: ChannelError): void;
}

export { CONNECTION_CLOSED };

/**
 * Builds the WebSocket URL of a channel: the base URL (or the page's host) plus the route
 * path with its `{name}` placeholders replaced by the URL-encoded kwargs.
 */
export function channelUrl(routePath: string, kwargs: RouteKwargs, baseUrl?: string): string {
  const path = routePath.replace(/\{(\w+)\}/g, (_match, name: string) => {
    const value = kwargs[name];
    if (value === undefined) {
      throw new Error(`Missing URL parameter "${name}" for the channel route ${routePath}.`);
    }
    return encodeURIComponent(String(value));
  });

  const base = baseUrl ?? pageBaseUrl();
  const url = new URL(path.replace(/^\/+/, ''), base.endsWith('/') ? base : `${base}/`);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  if (url.protocol === 'https:') url.protocol = 'wss:';
  return url.toString();
}

function pageBaseUrl(): string {
  if (typeof window === 'undefined' || typeof window.location === 'undefined') {
    throw new Error(
      'No page to take the WebSocket host from: pass options.baseUrl, such as "ws://localhost:8000".',
    );
  }
  const protocol = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${protocol}//${window.location.host}/`;
}

/**
 * The client side of a server ContextChannel: its live state, runtime state, actions,
 * writes and events. The generated channel classes extend it. The socket opens with the
 * first subscriber and closes when the last one leaves.
 */
export class ContextChannel<TState, TRuntime = Record<string, never>> {
  /**
   * The operations each instance type allows. A subclass declares them by overriding this
   * static property, as the generated channel classes do with the server's Meta.writable.
   */
  static readonly writable: WritableDeclaration = {};

  readonly model: ChannelModel;
  readonly url: string;

  protected readonly builder: StateBuilder<TState>;
  protected readonly socket: ChannelSocket;
  protected readonly writes: WriteTracker;

  private readonly options: ChannelOptions;
  private readonly timers: Timers;
  private readonly listeners = new Set<() => void>();
  private readonly eventHandlers = new Map<ChannelEventName, Set<(value: never) => void>>();
  private readonly pendingCalls = new Map<number, PendingCall>();
  private nextCallId = 1;
  private runtimeState: TRuntime = {} as TRuntime;
  private snapshot: ChannelSnapshot<TState, TRuntime>;
  private closeTimer: unknown = null;
  /** The connection error last emitted as an 'error' event, so that each is emitted once. */
  private reportedError: ChannelError | null = null;

  constructor(
    model: ChannelModel,
    routePath: string,
    kwargs: RouteKwargs,
    token: string,
    options: ChannelOptions = {},
  ) {
    this.model = model;
    this.options = options;
    this.url = channelUrl(routePath, kwargs, options.baseUrl);
    this.timers = options.timers ?? defaultTimers;
    const writable = (this.constructor as typeof ContextChannel).writable;
    this.builder = new StateBuilder<TState>(model, this.writeMethods(writable));

    const WebSocketClass = options.WebSocket ?? globalThis.WebSocket;
    this.socket = new ChannelSocket(
      {
        url: this.url,
        token,
        WebSocket: WebSocketClass,
        backoff: options.backoff ?? DEFAULT_BACKOFF,
        timers: this.timers,
        random: options.random ?? Math.random,
        now: options.now ?? Date.now,
        logger: options.logger ?? console,
      },
      {
        frame: (frame) => this.receive(frame),
        statusChange: () => this.connectionChanged(),
        closed: () => {
          this.rejectPendingCalls();
          this.writes.connectionClosed();
        },
      },
    );
    this.writes = new WriteTracker({
      model,
      writable,
      builder: this.builder,
      timers: this.timers,
      logger: this.logger,
      url: this.url,
      defaultTimeoutMs: options.optimisticTimeoutMs ?? DEFAULT_OPTIMISTIC_TIMEOUT_MS,
      isOpen: () => this.listeners.size > 0,
      send: (frame) => this.socket.send(frame),
      withdraw: (frame) => this.socket.withdraw(frame),
      changed: () => this.publish(),
    });
    this.snapshot = this.takeSnapshot();
  }

  private writeMethods(writable: WritableDeclaration): WriteMethods | undefined {
    if (Object.keys(writable).length === 0) {
      return undefined;
    }
    return {
      writable,
      save: (instanceType, id, data) => this.saveInstance(instanceType, id, data),
      delete: (instanceType, id) => this.deleteInstance(instanceType, id),
      create: (instanceType, parentType, parentId, relationName, data) =>
        this.createInstance(instanceType, parentType, parentId, relationName, data),
    };
  }

  // Store interface, shaped for React's useSyncExternalStore

  /**
   * Registers a listener called after every change. The first listener opens the socket,
   * unless an auth failure stopped it: create a new channel with a valid token then.
   */
  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    this.cancelClose();
    this.socket.open();

    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) {
        this.scheduleClose();
      }
    };
  };

  /** Returns the current snapshot, the same object until something changes. */
  getSnapshot = (): ChannelSnapshot<TState, TRuntime> => this.snapshot;

  /** Returns the nested object of one instance, the same object until it or a descendant changes. */
  getInstance<T = Record<string, unknown>>(instanceType: string, id: InstanceId): T | undefined {
    return this.builder.getInstance<T>(instanceType, id);
  }

  /** Subscribes to an event and returns the function that unsubscribes. */
  on<E extends ChannelEventName>(event: E, handler: (value: ChannelEvents[E]) => void): () => void {
    let handlers = this.eventHandlers.get(event);
    if (handlers === undefined) {
      handlers = new Set();
      this.eventHandlers.set(event, handlers);
    }
    const stored = handler as (value: never) => void;
    handlers.add(stored);
    return () => {
      handlers.delete(stored);
    };
  }

  /**
   * Calls an action of the server channel. Resolves with its result, or rejects with a
   * ChannelError: the server's error, or CONNECTION_CLOSED when the connection closes first.
   * Calls made while reconnecting are sent once the connection is authenticated.
   */
  callAction<T>(name: string, params: unknown[]): Promise<T> {
    if (this.listeners.size === 0) {
      return Promise.reject(
        new ChannelError(
          CONNECTION_CLOSED,
          `Cannot call ${name}: the channel has no subscriber, so its socket is closed.`,
        ),
      );
    }

    const callId = this.nextCallId;
    this.nextCallId += 1;
    return new Promise<T>((resolve, reject) => {
      this.pendingCalls.set(callId, { action: name, resolve, reject });
      this.socket.send({ type: 'action', callId, action: name, params });
    });
  }

  // Writes. The state shows each write at once: see WriteTracker for how it settles.

  /**
   * Saves fields of an instance. Resolves when the server confirms the write, and rejects
   * with a ChannelError (with `fields` for validation errors) after rolling the fields back.
   * An operation that the channel's `writable` does not declare rejects with 403 at once,
   * without sending anything.
   */
  saveInstance(
    instanceType: string,
    instanceId: InstanceId,
    data: Record<string, unknown>,
  ): Promise<void> {
    return this.writes.save(instanceType, instanceId, data);
  }

  /**
   * Creates an instance in the relation `relationName` of its parent. A temporary instance
   * with a negative id shows at once. Resolves with the nested object of the created
   * instance once the server's has replaced the temporary one.
   */
  createInstance<T = BuiltInstance>(
    instanceType: string,
    parentType: string,
    parentId: InstanceId,
    relationName: string,
    data: Record<string, unknown> = {},
  ): Promise<T> {
    return this.writes.create(
      instanceType,
      parentType,
      parentId,
      relationName,
      data,
    ) as Promise<T>;
  }

  /** Deletes an instance, removing it from the state at once and putting it back if the server rejects the delete. */
  deleteInstance(instanceType: string, instanceId: InstanceId): Promise<void> {
    return this.writes.delete(instanceType, instanceId);
  }

  /** Returns true while a write to the instance waits for the server's confirmation. */
  isPending(instanceType: string, instanceId: InstanceId): boolean {
    return isPending(this.writes, instanceType, instanceId);
  }

  // Server frames, one handler per frame type

  private receive(frame: ServerFrame): void {
    switch (frame.type) {
      case 'auth':
        // The socket handles authentication and reports it through statusChange.
        return;
      case 'initialAnchors':
        // NOTE: a resumed connection keeps the held instances. When the server responds to a resume
        // with the full state (its cache was rebuilt), instances deleted meanwhile stay here.
        this.builder.setAnchors(frame.anchorIds);
        break;
      case 'instances':
        this.receiveInstances(frame.instances);
        return;
      case 'initialStateEnd':
        this.builder.markAnchorLoaded(frame.anchorId);
        break;
      case 'prependAnchor':
        this.builder.prependAnchor(frame.anchorId);
        break;
      case 'appendAnchor':
        this.builder.appendAnchor(frame.anchorId);
        break;
      case 'removeAnchor':
        this.builder.removeAnchor(frame.anchorId);
        break;
      case 'clearAnchors':
        this.builder.clearAnchors();
        break;
      case 'actionResponse':
        this.settleCall(frame.callId, frame.result, frame.error);
        return;
      case 'writeResponse':
        this.writes.respond(frame.writeId, frame.success, frame.instanceId, frame.error);
        return;
      case 'runtimeState':
        this.runtimeState = frame.state as TRuntime;
        break;
      case 'runtimeVar':
        this.runtimeState = { ...this.runtimeState, [frame.var]: frame.value };
        break;
      case 'notification':
        this.emit('notification', frame.payload);
        return;
      case 'system':
        this.emit('system', frame.message);
        return;
      case 'maintenance':
        this.emit('maintenance', frame.message);
        return;
      case 'error':
        this.logger.warn(`rxdjango: ${this.url} reported error ${frame.code}: ${frame.message}`);
        this.emit('error', new ChannelError(frame.code, frame.message));
        return;
    }
    this.publish();
  }

  private receiveInstances(instances: unknown[]): void {
    const valid: FlatInstance[] = [];
    for (const instance of instances) {
      if (isFlatInstance(instance)) {
        valid.push(instance);
      } else {
        this.logger.warn(
          `rxdjango: ignored an instance without id, _instance_type, _tstamp or _operation from ${this.url}`,
        );
      }
    }
    const stateChanged = this.builder.applyInstances(valid);
    const writesChanged = this.writes.instancesApplied();
    if (stateChanged || writesChanged) {
      this.publish();
    }
  }

  private settleCall(callId: number, result: unknown, error: ErrorBody | undefined): void {
    const call = this.pendingCalls.get(callId);
    if (call === undefined) {
      this.logger.warn(
        `rxdjango: ${this.url} sent a response to unknown action call ${callId}; ignored`,
      );
      return;
    }
    this.pendingCalls.delete(callId);
    if (error !== undefined) {
      call.reject(new ChannelError(error.code, error.message));
    } else {
      call.resolve(result);
    }
  }

  private rejectPendingCalls(): void {
    const calls = [...this.pendingCalls.values()];
    this.pendingCalls.clear();
    for (const call of calls) {
      call.reject(
        new ChannelError(
          CONNECTION_CLOSED,
          `The connection closed before the response to action ${call.action} arrived; call it again once connected.`,
        ),
      );
    }
  }

  // Listeners and events

  private connectionChanged(): void {
    const error = this.socket.error;
    if (error !== null && error !== this.reportedError) {
      this.reportedError = error;
      this.emit('error', error);
    }
    this.publish();
  }

  private publish(): void {
    this.snapshot = this.takeSnapshot();
    for (const listener of [...this.listeners]) {
      listener();
    }
  }

  private takeSnapshot(): ChannelSnapshot<TState, TRuntime> {
    return {
      state: this.builder.state,
      runtimeState: this.runtimeState,
      connected: this.socket.status === 'connected',
      noConnectionSince: this.socket.noConnectionSince,
      error: this.socket.error,
      empty: this.builder.empty,
      loaded: this.builder.loaded,
      pendingWrites: this.writes.pendingWrites,
    };
  }

  private emit<E extends ChannelEventName>(event: E, value: ChannelEvents[E]): void {
    const handlers = this.eventHandlers.get(event);
    for (const handler of [...(handlers ?? [])]) {
      try {
        (handler as (value: ChannelEvents[E]) => void)(value);
      } catch (error) {
        this.logger.error(`rxdjango: a ${event} handler of ${this.url} failed`, error);
      }
    }
  }

  private get logger() {
    return this.options.logger ?? console;
  }

  // Socket life cycle

  /**
   * Closes the socket after the current task, so that a subscriber that leaves and comes
   * back at once (React StrictMode runs effects twice) keeps the same socket.
   */
  private scheduleClose(): void {
    this.cancelClose();
    this.closeTimer = this.timers.setTimeout(() => {
      this.closeTimer = null;
      if (this.listeners.size === 0) {
        this.socket.close();
      }
    }, 0);
  }

  private cancelClose(): void {
    if (this.closeTimer !== null) {
      this.timers.clearTimeout(this.closeTimer);
      this.closeTimer = null;
    }
  }
}
