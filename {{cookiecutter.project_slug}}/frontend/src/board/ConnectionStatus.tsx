function statusLabel(connected: boolean, noConnectionSince: number | null): string {
  if (connected) {
    return 'Live';
  }
  return noConnectionSince === null ? 'Connecting…' : 'Reconnecting…';
}

/** Shows whether the page receives live changes. */
export function ConnectionStatus({
  connected,
  noConnectionSince,
}: {
  connected: boolean;
  noConnectionSince: number | null;
}) {
  const label = statusLabel(connected, noConnectionSince);
  return (
    <span
      className={connected ? 'badge badge-live' : 'badge'}
      data-testid="connection-status"
      data-connected={connected ? 'true' : 'false'}
    >
      {label}
    </span>
  );
}
