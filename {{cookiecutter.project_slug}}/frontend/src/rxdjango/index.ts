export {
  CONNECTION_CLOSED,
  ContextChannel,
  channelUrl,
  type ChannelEventName,
  type ChannelEvents,
  type RouteKwargs,
} from './channel';
export { useChannelInstance, useChannelState } from './hooks';
export type { ClientFrame, ErrorBody, ServerFrame, WriteFrame } from './protocol';
export {
  CLOSE_AUTH_FAILED,
  CLOSE_AUTH_TIMEOUT,
  CLOSE_FORBIDDEN,
  CLOSE_NOT_FOUND,
  CLOSE_SLOW_CONSUMER,
  ChannelSocket,
  DEFAULT_BACKOFF,
  ResumePoint,
  backoffDelay,
} from './socket';
export { StateBuilder, type BuiltInstance, type WriteMethods } from './stateBuilder';
export {
  ChannelError,
  isLoaded,
  type BackoffOptions,
  type ChannelModel,
  type ChannelOptions,
  type ChannelSnapshot,
  type ConnectionStatus,
  type Creatable,
  type CreatableList,
  type Deletable,
  type FieldErrors,
  type FlatInstance,
  type InstanceId,
  type Loadable,
  type Logger,
  type Operation,
  type PendingWrite,
  type Savable,
  type Timers,
  type UnloadedInstance,
  type WebSocketConstructor,
  type WritableDeclaration,
  type WriteOperation,
} from './types';
export {
  DEFAULT_OPTIMISTIC_TIMEOUT_MS,
  STILL_CREATING,
  WRITE_TIMED_OUT,
  WriteTracker,
  isPending,
} from './writes';
