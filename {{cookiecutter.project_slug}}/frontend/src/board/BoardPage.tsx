import { useMemo, useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router';

import { useCurrentUser } from '../auth/useAuth';
import { BoardChannel, type BoardChannelBoard } from '../generated/board.channels';
import { ChannelError, isLoaded, useChannelState } from '../rxdjango';
import { ConnectionStatus } from './ConnectionStatus';
import { TaskRow } from './TaskRow';

const TASK_TYPE = 'board.serializers.TaskSerializer';

/** Describes a rejected write for the person who made it. */
function describeFailure(action: string, failure: unknown): string {
  if (failure instanceof ChannelError) {
    return `Could not ${action}: ${failure.message} (${failure.code}).`;
  }
  return `Could not ${action}: ${failure instanceof Error ? failure.message : String(failure)}.`;
}

/** Renders one live board: tasks edit in place, show as pending until the server confirms, and roll back when it rejects a write. */
export function BoardPage() {
  const { boardId } = useParams();
  const { token, user } = useCurrentUser();
  const id = Number(boardId);
  const channel = useMemo(() => new BoardChannel({ board_id: id }, token), [id, token]);
  const snapshot = useChannelState(channel);
  const [failure, setFailure] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [newTitle, setNewTitle] = useState('');

  const board = snapshot.state as BoardChannelBoard | undefined;
  const pendingTaskIds = new Set(
    snapshot.pendingWrites.filter((write) => write.instanceType === TASK_TYPE).map((write) => write.instanceId),
  );

  function reportFailure(action: string) {
    return (error: unknown) => {
      setNotice(null);
      setFailure(describeFailure(action, error));
    };
  }

  function addTask(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const title = newTitle.trim();
    if (board === undefined || title === '') {
      return;
    }
    setNewTitle('');
    setFailure(null);
    board.tasks.create({ title }).catch(reportFailure(`add "${title}"`));
  }

  function clearDone() {
    setFailure(null);
    channel
      .clear_done()
      .then((count) => {
        setNotice(`Deleted ${count} done ${count === 1 ? 'task' : 'tasks'}.`);
      })
      .catch(reportFailure('clear the done tasks'));
  }

  if (snapshot.error !== null) {
    return (
      <main className="page">
        <p className="error" role="alert" data-testid="board-error">
          {snapshot.error.code === 403 || snapshot.error.code === 404
            ? 'This board does not exist, or you are not one of its members.'
            : snapshot.error.message}
        </p>
        <Link to="/">Back to your boards</Link>
      </main>
    );
  }

  if (board === undefined) {
    return (
      <main className="page">
        <p className="muted" data-testid="board-loading">
          Loading the board…
        </p>
      </main>
    );
  }

  const members = board.members.filter(isLoaded);
  const note = board.notes.filter(isLoaded).find((candidate) => candidate.user === user.id);

  return (
    <main className="page">
      <p>
        <Link to="/">← Your boards</Link>
      </p>
      <div className="section-header">
        <h1 data-testid="board-name">{board.name}</h1>
        <ConnectionStatus connected={snapshot.connected} noConnectionSince={snapshot.noConnectionSince} />
      </div>
      <p className="muted">
        Members: {members.map((member) => member.username).join(', ')} · Viewing now:{' '}
        <span data-testid="board-viewers">{snapshot.runtimeState.viewers ?? 0}</span>
      </p>

      {failure !== null && (
        <p className="error banner" role="alert" data-testid="write-error">
          {failure}
        </p>
      )}
      {notice !== null && (
        <p className="banner" role="status" data-testid="board-notice">
          {notice}
        </p>
      )}

      <section className="card section">
        <ul className="task-list" data-testid="task-list">
          {board.tasks.filter(isLoaded).map((task) => (
            <TaskRow
              key={task.id}
              task={task}
              members={members}
              pending={pendingTaskIds.has(task.id)}
              onFailure={reportFailure}
              onStart={() => {
                setFailure(null);
              }}
            />
          ))}
        </ul>
        <form className="task-form" onSubmit={addTask}>
          <input
            aria-label="New task title"
            placeholder="New task"
            data-testid="new-task-title"
            value={newTitle}
            onChange={(event) => {
              setNewTitle(event.target.value);
            }}
          />
          <button type="submit" data-testid="new-task-submit">
            Add
          </button>
        </form>
        <div className="actions">
          <button type="button" className="secondary" data-testid="clear-done" onClick={clearDone}>
            Delete done tasks
          </button>
        </div>
      </section>

      <section className="card section">
        <h2>Your private note</h2>
        <p className="muted">Only you see this note.</p>
        <p data-testid="private-note">{note?.text ?? ''}</p>
      </section>
    </main>
  );
}
