export {
  CONNECTION_CLOSED,
  ContextChannel,
  channelUrl,
  type ChannelEventName,
  type ChannelEvents,
  type PendingWrite,
  type RouteKwargs,
} from './channel';
export { useChannelInstance, useChannelState } from './hooks';
export type { ClientFrame, ErrorBody, ServerFrame } from './protocol';
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
export { StateBuilder, type BuiltInstance } from './stateBuilder';
export {
  ChannelError,
  isLoaded,
  type BackoffOptions,
  type ChannelModel,
  type ChannelOptions,
  type ChannelSnapshot,
  type ConnectionStatus,
  type FlatInstance,
  type InstanceId,
  type Loadable,
  type Logger,
  type Operation,
  type Timers,
  type UnloadedInstance,
  type WebSocketConstructor,
} from './types';
