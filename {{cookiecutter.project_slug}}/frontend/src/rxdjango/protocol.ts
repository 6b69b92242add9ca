import type { FieldErrors, FlatInstance, InstanceId, Operation } from './types';

// Frames of the wire protocol. Every frame is one JSON text message with a "type";
// the server may add fields, so unknown fields are ignored.

export interface ErrorBody {
  code: number;
  message: string;
  /** Validation errors by field name, in the error of a rejected write. */
  fields?: unknown;
}

export type ServerFrame =
  | { type: 'auth'; statusCode: number; error?: string }
  | { type: 'initialAnchors'; anchorIds: InstanceId[] }
  | { type: 'instances'; instances: FlatInstance[] }
  | { type: 'initialStateEnd'; anchorId: InstanceId; tstamp: number }
  | { type: 'prependAnchor'; anchorId: InstanceId }
  | { type: 'appendAnchor'; anchorId: InstanceId }
  | { type: 'removeAnchor'; anchorId: InstanceId }
  | { type: 'clearAnchors' }
  | { type: 'actionResponse'; callId: number; result?: unknown; error?: ErrorBody }
  | {
      type: 'writeResponse';
      writeId: number;
      success: boolean;
      /** The id of the created instance, in the success response of a create. */
      instanceId?: InstanceId;
      error?: ErrorBody;
    }
  | { type: 'runtimeState'; state: Record<string, unknown> }
  | { type: 'runtimeVar'; var: string; value: unknown }
  | { type: 'notification'; payload: unknown }
  | { type: 'system'; message: string }
  | { type: 'maintenance'; message: string }
  | { type: 'error'; code: number; message: string };

export type WriteFrame =
  | {
      type: 'write';
      writeId: number;
      operation: 'save';
      instanceType: string;
      instanceId: InstanceId;
      data: Record<string, unknown>;
    }
  | {
      type: 'write';
      writeId: number;
      operation: 'create';
      instanceType: string;
      parentType: string;
      parentId: InstanceId;
      relationName: string;
      data: Record<string, unknown>;
    }
  | {
      type: 'write';
      writeId: number;
      operation: 'delete';
      instanceType: string;
      instanceId: InstanceId;
    };

export type ClientFrame =
  | { type: 'auth'; token: string; lastUpdate: number | null }
  | { type: 'action'; callId: number; action: string; params: unknown[] }
  | WriteFrame;

export type ParseResult = { frame: ServerFrame } | { problem: string };

type JsonObject = Record<string, unknown>;

const OPERATIONS: ReadonlySet<string> = new Set<Operation>([
  'initial_state',
  'create',
  'update',
  'delete',
]);

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isInstanceId(value: unknown): value is InstanceId {
  return (
    (typeof value === 'number' && Number.isFinite(value)) ||
    (typeof value === 'string' && value !== '')
  );
}

function isErrorBody(value: unknown): value is ErrorBody {
  return isObject(value) && typeof value.code === 'number' && typeof value.message === 'string';
}

export function isFlatInstance(value: unknown): value is FlatInstance {
  return (
    isObject(value) &&
    isInstanceId(value.id) &&
    typeof value._instance_type === 'string' &&
    typeof value._tstamp === 'number' &&
    typeof value._operation === 'string' &&
    OPERATIONS.has(value._operation)
  );
}

/** Returns a description of what is wrong with a frame of a known type, or null when it is valid. */
function findProblem(frame: JsonObject): string | null {
  switch (frame.type) {
    case 'auth':
      return typeof frame.statusCode === 'number' ? null : 'statusCode is not a number';
    case 'initialAnchors':
      return Array.isArray(frame.anchorIds) && frame.anchorIds.every(isInstanceId)
        ? null
        : 'anchorIds is not an array of ids';
    case 'instances':
      return Array.isArray(frame.instances) ? null : 'instances is not an array';
    case 'initialStateEnd':
      return isInstanceId(frame.anchorId) && typeof frame.tstamp === 'number'
        ? null
        : 'anchorId or tstamp is invalid';
    case 'prependAnchor':
    case 'appendAnchor':
    case 'removeAnchor':
      return isInstanceId(frame.anchorId) ? null : 'anchorId is not an id';
    case 'clearAnchors':
      return null;
    case 'actionResponse':
      if (typeof frame.callId !== 'number') return 'callId is not a number';
      return frame.error === undefined || isErrorBody(frame.error)
        ? null
        : 'error has no code and message';
    case 'writeResponse':
      if (typeof frame.writeId !== 'number') return 'writeId is not a number';
      if (typeof frame.success !== 'boolean') return 'success is not a boolean';
      if (frame.instanceId !== undefined && !isInstanceId(frame.instanceId)) {
        return 'instanceId is not an id';
      }
      return frame.error === undefined || isErrorBody(frame.error)
        ? null
        : 'error has no code and message';
    case 'runtimeState':
      return isObject(frame.state) ? null : 'state is not an object';
    case 'runtimeVar':
      return typeof frame.var === 'string' ? null : 'var is not a string';
    case 'notification':
      return null;
    case 'system':
    case 'maintenance':
      return typeof frame.message === 'string' ? null : 'message is not a string';
    case 'error':
      return isErrorBody(frame) ? null : 'code or message is missing';
    default:
      return `unknown frame type ${JSON.stringify(frame.type)}`;
  }
}

/**
 * Returns the field errors of a rejected write when they have the shape DRF gives them,
 * an object of message arrays, and undefined otherwise.
 */
export function readFieldErrors(value: unknown): FieldErrors | undefined {
  if (!isObject(value)) {
    return undefined;
  }
  const valid = Object.values(value).every(
    (messages) =>
      Array.isArray(messages) && messages.every((message) => typeof message === 'string'),
  );
  return valid ? (value as FieldErrors) : undefined;
}

/** Parses one text frame from the server, checking the fields the client reads. */
export function parseServerFrame(data: unknown): ParseResult {
  if (typeof data !== 'string') {
    return { problem: 'binary frame received; the server sends JSON text frames' };
  }

  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return { problem: `frame is not valid JSON: ${data.slice(0, 80)}` };
  }
  if (!isObject(value) || typeof value.type !== 'string') {
    return { problem: 'frame is not a JSON object with a string "type"' };
  }

  const problem = findProblem(value);
  if (problem !== null) {
    return { problem: `invalid ${value.type} frame: ${problem}` };
  }
  // findProblem checked every field that the handlers of this frame type read.
  return { frame: value as unknown as ServerFrame };
}
