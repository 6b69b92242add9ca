import { readFieldErrors, type ErrorBody, type WriteFrame } from './protocol';
import type { StateBuilder } from './stateBuilder';
import {
  CONNECTION_CLOSED,
  ChannelError,
  type ChannelModel,
  type InstanceId,
  type Logger,
  type PendingWrite,
  type Timers,
  type WritableDeclaration,
  type WriteOperation,
} from './types';

/** Time after which the server's state replaces an unconfirmed write, when neither the model nor the options set one. */
export const DEFAULT_OPTIMISTIC_TIMEOUT_MS = 5000;

/** Code of the error that rejects a write not confirmed within its optimistic timeout. */
export const WRITE_TIMED_OUT = 504;

/** Code of the error that rejects a write to a temporary instance whose create is not confirmed yet. */
export const STILL_CREATING = 409;

/**
 * Returns true when a write to the instance waits for the server's confirmation.
 * It takes the snapshot that `useChannelState` returns, or anything with its `pendingWrites`.
 */
export function isPending(
  source: { readonly pendingWrites: readonly PendingWrite[] },
  instanceType: string,
  instanceId: InstanceId,
): boolean {
  return source.pendingWrites.some(
    (write) => write.instanceType === instanceType && write.instanceId === instanceId,
  );
}

/** The parts of its channel that a WriteTracker uses. */
export interface WriteTrackerOptions {
  model: ChannelModel;
  writable: WritableDeclaration;
  builder: StateBuilder<unknown>;
  timers: Timers;
  logger: Logger;
  /** URL of the channel, for log messages. */
  url: string;
  defaultTimeoutMs: number;
  /** Returns false when the channel has no subscriber, so its socket is closed. */
  isOpen(): boolean;
  send(frame: WriteFrame): void;
  /** Removes a frame that waits for authentication and returns whether it was still waiting. */
  withdraw(frame: WriteFrame): boolean;
  /** Runs after the tracker changed the state or the pending writes. */
  changed(): void;
}

/** A write sent to the server and not finished: its promise is unsettled or the state still shows it. */
interface WriteRecord {
  readonly pending: PendingWrite;
  readonly frame: WriteFrame;
  readonly timeoutMs: number;
  timer: unknown;
  /** True once the server's response arrived. */
  responded: boolean;
  /** True once the promise is resolved or rejected. */
  settled: boolean;
  /** For a create, the id that the server gave the instance. */
  createdId: InstanceId | undefined;
  resolve(value: unknown): void;
  reject(error: ChannelError): void;
}

/**
 * Sends the writes of one channel, shows them in its state builder at once, and settles
 * them with the server's responses and broadcasts.
 *
 * A write's promise settles with the server's response, except that a create resolves only
 * once the created instance has arrived too, so that it resolves with that instance. The
 * state shows a write until the server's broadcast replaces it, the server rejects it, or
 * its optimistic timeout passes, whichever comes first. A write without a response when
 * the timeout passes is rejected with WRITE_TIMED_OUT, and one without a response when the
 * connection closes with CONNECTION_CLOSED. Both are rolled back, and the server may still
 * have applied them. A resumed connection then sends the server's state.
 */
export class WriteTracker {
  /** The writes whose promises are unsettled, oldest first. A new array whenever it changes. */
  pendingWrites: readonly PendingWrite[] = [];

  private readonly options: WriteTrackerOptions;
  private readonly records = new Map<number, WriteRecord>();
  /** Writes that timed out after they were sent, whose late responses are expected and ignored. */
  private readonly expired = new Set<number>();
  /** Pending creates by the temporary id of their instance. */
  private readonly creating = new Map<InstanceId, WriteRecord>();
  /** Ids that the server gave created instances, by their temporary ids. */
  private readonly createdIds = new Map<InstanceId, InstanceId>();
  private nextWriteId = 1;
  private nextTemporaryId = -1;

  constructor(options: WriteTrackerOptions) {
    this.options = options;
  }

  save(instanceType: string, instanceId: InstanceId, data: Record<string, unknown>): Promise<void> {
    const target = this.writeTarget(instanceType, 'save', instanceId);
    if (target instanceof ChannelError) {
      return Promise.reject(target);
    }

    return this.start<void>(
      { operation: 'save', instanceType, instanceId: target },
      (writeId) => ({
        type: 'write',
        writeId,
        operation: 'save',
        instanceType,
        instanceId: target,
        data,
      }),
      (writeId) => this.options.builder.saveOptimistically(writeId, instanceType, target, data),
    );
  }

  delete(instanceType: string, instanceId: InstanceId): Promise<void> {
    const target = this.writeTarget(instanceType, 'delete', instanceId);
    if (target instanceof ChannelError) {
      return Promise.reject(target);
    }

    return this.start<void>(
      { operation: 'delete', instanceType, instanceId: target },
      (writeId) => ({
        type: 'write',
        writeId,
        operation: 'delete',
        instanceType,
        instanceId: target,
      }),
      (writeId) => this.options.builder.deleteOptimistically(writeId, instanceType, target),
    );
  }

  create(
    instanceType: string,
    parentType: string,
    parentId: InstanceId,
    relationName: string,
    data: Record<string, unknown> = {},
  ): Promise<unknown> {
    const undeclared = this.undeclaredError(instanceType, 'create');
    if (undeclared !== null) {
      return Promise.reject(undeclared);
    }
    if (this.options.model.layers[parentType]?.[relationName] !== instanceType) {
      return Promise.reject(
        new ChannelError(
          400,
          `Cannot create ${instanceType} in ${parentType}.${relationName}: the channel model has no such relation.`,
        ),
      );
    }
    const parent = this.writeTarget(parentType, null, parentId);
    if (parent instanceof ChannelError) {
      return Promise.reject(parent);
    }

    const temporaryId = this.nextTemporaryId;
    this.nextTemporaryId -= 1;
    return this.start<unknown>(
      { operation: 'create', instanceType, instanceId: temporaryId },
      (writeId) => ({
        type: 'write',
        writeId,
        operation: 'create',
        instanceType,
        parentType,
        parentId: parent,
        relationName,
        data,
      }),
      (writeId) =>
        this.options.builder.createOptimistically(
          writeId,
          instanceType,
          temporaryId,
          data,
          parentType,
          parent,
          relationName,
        ),
    );
  }

  // Server events

  /** Settles a write with the server's response. */
  respond(
    writeId: number,
    success: boolean,
    instanceId: InstanceId | undefined,
    error: ErrorBody | undefined,
  ): void {
    const record = this.records.get(writeId);
    if (record === undefined || record.responded) {
      if (!this.expired.delete(writeId)) {
        this.options.logger.warn(
          `rxdjango: ${this.options.url} sent a response to unknown write ${writeId}; ignored`,
        );
      }
      return;
    }
    record.responded = true;
    this.settleResponse(record, success, instanceId, error);
    this.options.changed();
  }

  private settleResponse(
    record: WriteRecord,
    success: boolean,
    instanceId: InstanceId | undefined,
    error: ErrorBody | undefined,
  ): void {
    const writeId = record.pending.writeId;

    if (!success) {
      this.options.builder.dropWrite(writeId);
      this.finish(record);
      this.settle(record, () =>
        record.reject(
          new ChannelError(
            error?.code ?? 500,
            error?.message ?? `The server rejected the ${record.pending.operation} without a message.`,
            readFieldErrors(error?.fields),
          ),
        ),
      );
      return;
    }

    if (record.pending.operation !== 'create') {
      this.settle(record, () => record.resolve(undefined));
      this.finishIfShown(record);
      return;
    }

    if (instanceId === undefined) {
      this.options.builder.dropWrite(writeId);
      this.finish(record);
      this.settle(record, () =>
        record.reject(
          new ChannelError(
            502,
            `The server confirmed the create of ${record.pending.instanceType} without the id of the instance.`,
          ),
        ),
      );
      return;
    }
    record.createdId = instanceId;
    this.createdIds.set(record.pending.instanceId, instanceId);
    this.options.builder.setCreatedId(writeId, instanceId);
    this.resolveCreates();
  }

  /**
   * Resolves the creates whose instance arrived and finishes the writes that the state no
   * longer shows. Runs after every batch of instances, and returns whether the pending
   * writes changed.
   */
  instancesApplied(): boolean {
    const resolved = this.resolveCreates();
    for (const record of [...this.records.values()]) {
      if (record.settled) {
        this.finishIfShown(record);
      }
    }
    return resolved;
  }

  /**
   * Rejects with CONNECTION_CLOSED, and rolls back, the writes that have no response when
   * the connection closes, because the server sends no responses for them on a new connection.
   */
  connectionClosed(): void {
    this.expired.clear();
    let changed = false;
    for (const record of [...this.records.values()]) {
      if (record.responded) continue;
      this.options.builder.dropWrite(record.pending.writeId);
      this.finish(record);
      const { operation, instanceType, instanceId } = record.pending;
      this.settle(record, () =>
        record.reject(
          new ChannelError(
            CONNECTION_CLOSED,
            `The connection closed before the server confirmed the ${operation} of ${instanceType} ${instanceId}, so it was rolled back. The server may still have applied it.`,
          ),
        ),
      );
      changed = true;
    }
    if (changed) {
      this.options.changed();
    }
  }

  // Write life cycle

  private start<T>(
    target: Omit<PendingWrite, 'writeId'>,
    frameFor: (writeId: number) => WriteFrame,
    show: (writeId: number) => boolean,
  ): Promise<T> {
    const { operation, instanceType, instanceId } = target;
    if (!this.options.isOpen()) {
      return Promise.reject(
        new ChannelError(
          CONNECTION_CLOSED,
          `Cannot ${operation} ${instanceType} ${instanceId}: the channel has no subscriber, so its socket is closed.`,
        ),
      );
    }

    const writeId = this.nextWriteId;
    this.nextWriteId += 1;
    const optimisticTimeout = this.optimisticTimeoutOf(instanceType);
    return new Promise<T>((resolve, reject) => {
      const record: WriteRecord = {
        pending: { writeId, ...target },
        frame: frameFor(writeId),
        timeoutMs: optimisticTimeout ?? this.options.defaultTimeoutMs,
        timer: null,
        responded: false,
        settled: false,
        createdId: undefined,
        resolve,
        reject,
      };
      this.records.set(writeId, record);
      if (operation === 'create') {
        this.creating.set(instanceId, record);
      }
      this.updatePending();
      if (optimisticTimeout !== null) {
        show(writeId);
      }
      this.options.send(record.frame);
      record.timer = this.options.timers.setTimeout(() => this.expire(record), record.timeoutMs);
      this.options.changed();
    });
  }

  /**
   * Drops what the state shows of a write once its timeout passes, so the server's last
   * known state wins, and rejects its promise when it is still unsettled.
   */
  private expire(record: WriteRecord): void {
    record.timer = null;
    this.options.builder.dropWrite(record.pending.writeId);
    this.finish(record);
    if (record.settled) {
      this.options.changed();
      return;
    }

    const { writeId, operation, instanceType, instanceId } = record.pending;
    let message: string;
    if (record.createdId !== undefined) {
      message = `The server created ${instanceType} ${record.createdId}, but the instance did not arrive within ${record.timeoutMs} ms.`;
    } else if (this.options.withdraw(record.frame)) {
      message = `The ${operation} of ${instanceType} ${instanceId} timed out after ${record.timeoutMs} ms before it was sent, because the connection was down. It was rolled back and will not be sent.`;
    } else {
      this.expired.add(writeId);
      message = `The server did not confirm the ${operation} of ${instanceType} ${instanceId} within ${record.timeoutMs} ms, so the server's last known state is shown. The server may still apply the write.`;
    }
    this.settle(record, () => record.reject(new ChannelError(WRITE_TIMED_OUT, message)));
    this.options.changed();
  }

  /** Resolves the confirmed creates whose instance has arrived, and returns whether any did. */
  private resolveCreates(): boolean {
    let resolved = false;
    for (const record of this.records.values()) {
      const createdId = record.createdId;
      if (record.settled || createdId === undefined) continue;
      const instance = this.options.builder.getInstance(record.pending.instanceType, createdId);
      if (instance === undefined) continue;
      this.settle(record, () => record.resolve(instance));
      this.finishIfShown(record);
      resolved = true;
    }
    return resolved;
  }

  private settle(record: WriteRecord, settle: () => void): void {
    record.settled = true;
    this.creating.delete(record.pending.instanceId);
    this.updatePending();
    settle();
  }

  /** Finishes a settled write once the state no longer shows it. */
  private finishIfShown(record: WriteRecord): void {
    if (!this.options.builder.hasWrite(record.pending.writeId)) {
      this.finish(record);
    }
  }

  private finish(record: WriteRecord): void {
    if (record.timer !== null) {
      this.options.timers.clearTimeout(record.timer);
      record.timer = null;
    }
    this.records.delete(record.pending.writeId);
  }

  private updatePending(): void {
    this.pendingWrites = [...this.records.values()]
      .filter((record) => !record.settled)
      .map((record) => record.pending);
  }

  // Checks made before sending

  /** Returns the error that rejects an operation that the channel's `writable` does not declare, or null. */
  private undeclaredError(instanceType: string, operation: WriteOperation): ChannelError | null {
    if (this.options.writable[instanceType]?.includes(operation)) {
      return null;
    }
    return new ChannelError(
      403,
      `The channel does not allow ${operation} on ${instanceType}: list it for that serializer in the server channel's Meta.writable, then run makefrontend.`,
    );
  }

  /**
   * Returns the id to send for a write to an instance, or the error that rejects the write.
   * A temporary id maps to the server's id once the create is confirmed. With `operation`
   * null, only the id is checked.
   */
  private writeTarget(
    instanceType: string,
    operation: WriteOperation | null,
    instanceId: InstanceId,
  ): InstanceId | ChannelError {
    const undeclared = operation === null ? null : this.undeclaredError(instanceType, operation);
    if (undeclared !== null) {
      return undeclared;
    }
    const createdId = this.createdIds.get(instanceId);
    if (createdId !== undefined) {
      return createdId;
    }
    if (this.creating.has(instanceId)) {
      return new ChannelError(
        STILL_CREATING,
        `${instanceType} ${instanceId} is a temporary instance whose create the server has not confirmed: write to it once the create() promise resolves.`,
      );
    }
    // NOTE: temporary ids are negative numbers, so a model whose primary keys can be negative
    // is rejected here for ids within the range of the temporary ids that this channel issued.
    if (typeof instanceId === 'number' && instanceId < 0 && instanceId > this.nextTemporaryId) {
      return new ChannelError(
        404,
        `${instanceType} ${instanceId} is a temporary instance whose create failed, so it does not exist on the server.`,
      );
    }
    return instanceId;
  }

  /** Returns the optimistic timeout of an instance type in milliseconds, or null when its writes show only once the server broadcasts them. */
  private optimisticTimeoutOf(instanceType: string): number | null {
    const timeouts = this.options.model.optimisticTimeoutMs;
    if (timeouts === undefined) {
      return this.options.defaultTimeoutMs;
    }
    return timeouts[instanceType] ?? null;
  }
}
