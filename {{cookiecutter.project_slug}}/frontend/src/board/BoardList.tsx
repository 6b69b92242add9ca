import { useMemo } from 'react';
import { Link } from 'react-router';

import { useCurrentUser } from '../auth/useAuth';
import { BoardListChannel } from '../generated/board.channels';
import { isLoaded, useChannelState } from '../rxdjango';
import { ConnectionStatus } from './ConnectionStatus';

/** Lists the boards the user is a member of, live: new boards appear without a reload. */
export function BoardList() {
  const { token } = useCurrentUser();
  const channel = useMemo(() => new BoardListChannel({}, token), [token]);
  const { state, connected, noConnectionSince, error, empty, loaded } = useChannelState(channel);
  const boards = Array.isArray(state) ? state : [];

  return (
    <section className="card section" data-testid="board-list">
      <div className="section-header">
        <h2>Your boards</h2>
        <ConnectionStatus connected={connected} noConnectionSince={noConnectionSince} />
      </div>
      {error !== null && (
        <p className="error" role="alert" data-testid="board-list-error">
          {error.message}
        </p>
      )}
      {error === null && !loaded && <p className="muted">Loading boards…</p>}
      {empty && <p data-testid="board-list-empty">You are not a member of any board yet.</p>}
      <ul className="board-list">
        {boards.map((board) => (
          <li key={board.id} data-testid="board-list-item">
            <Link to={`/boards/${board.id}`}>{board.name}</Link>
            <span className="muted">
              {' '}
              {board.members
                .filter(isLoaded)
                .map((member) => member.username)
                .join(', ')}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
