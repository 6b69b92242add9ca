import { useCallback, useSyncExternalStore } from 'react';

import type { ContextChannel } from './channel';
import type { ChannelSnapshot, InstanceId } from './types';

/**
 * Subscribes the component to a channel and returns its snapshot: the state, runtime
 * state and connection status. The socket opens with the first subscribed component
 * and closes after the last one unmounts.
 */
export function useChannelState<TState, TRuntime>(
  channel: ContextChannel<TState, TRuntime>,
): ChannelSnapshot<TState, TRuntime> {
  return useSyncExternalStore(channel.subscribe, channel.getSnapshot, channel.getSnapshot);
}

/**
 * Returns the nested object of one instance of the channel, or undefined until it arrives.
 * The component re-renders only when that instance or one of its descendants changes.
 */
export function useChannelInstance<T = Record<string, unknown>>(
  channel: ContextChannel<unknown, unknown>,
  instanceType: string,
  id: InstanceId | null | undefined,
): T | undefined {
  const getInstance = useCallback(
    () => (id === null || id === undefined ? undefined : channel.getInstance<T>(instanceType, id)),
    [channel, instanceType, id],
  );
  return useSyncExternalStore(channel.subscribe, getInstance, getInstance);
}
