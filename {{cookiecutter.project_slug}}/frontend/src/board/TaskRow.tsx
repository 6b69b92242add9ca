import { useState, type KeyboardEvent } from 'react';

import type { BoardChannelTask } from '../generated/board.channels';
import type { MemberType, TaskType } from '../generated/board.interfaces';

const STATUS_LABELS: Record<TaskType['status'], string> = {
  todo: 'To do',
  doing: 'Doing',
  done: 'Done',
};

interface TaskRowProps {
  task: BoardChannelTask;
  members: MemberType[];
  /** True while a write to this task waits for the server. */
  pending: boolean;
  onStart: () => void;
  onFailure: (action: string) => (error: unknown) => void;
}

/** Renders one task: the title edits in place, and status and assignee save on change. */
export function TaskRow({ task, members, pending, onStart, onFailure }: TaskRowProps) {
  const [draft, setDraft] = useState<string | null>(null);

  function saveTitle() {
    if (draft === null) {
      return;
    }
    const title = draft.trim();
    setDraft(null);
    if (title === '' || title === task.title) {
      return;
    }
    onStart();
    task.save({ title }).catch(onFailure(`rename "${task.title}"`));
  }

  function handleKey(event: KeyboardEvent<HTMLInputElement>) {
    if (event.key === 'Enter') {
      saveTitle();
    } else if (event.key === 'Escape') {
      setDraft(null);
    }
  }

  return (
    <li
      className={pending ? 'task pending' : 'task'}
      data-testid="task-row"
      data-task-id={task.id}
      data-pending={pending ? 'true' : 'false'}
    >
      <input
        className="task-title"
        aria-label="Task title"
        data-testid="task-title"
        value={draft ?? task.title}
        onFocus={() => {
          setDraft(task.title);
        }}
        onChange={(event) => {
          setDraft(event.target.value);
        }}
        onBlur={saveTitle}
        onKeyDown={handleKey}
      />
      <select
        aria-label="Status"
        data-testid="task-status"
        value={task.status}
        onChange={(event) => {
          const status = event.target.value as TaskType['status'];
          onStart();
          task.save({ status }).catch(onFailure(`change the status of "${task.title}"`));
        }}
      >
        {Object.entries(STATUS_LABELS).map(([value, label]) => (
          <option key={value} value={value}>
            {label}
          </option>
        ))}
      </select>
      <select
        aria-label="Assignee"
        data-testid="task-assignee"
        value={task.assignee ?? ''}
        onChange={(event) => {
          const assignee = event.target.value === '' ? null : Number(event.target.value);
          onStart();
          task.save({ assignee }).catch(onFailure(`assign "${task.title}"`));
        }}
      >
        <option value="">Nobody</option>
        {members.map((member) => (
          <option key={member.id} value={member.id}>
            {member.username}
          </option>
        ))}
      </select>
      {task.locked && (
        <span className="badge" data-testid="task-locked" title="Locked tasks cannot be changed">
          Locked
        </span>
      )}
      {pending && (
        <span className="badge badge-pending" data-testid="task-pending">
          Saving…
        </span>
      )}
      <button
        type="button"
        className="secondary"
        aria-label={`Delete ${task.title}`}
        data-testid="task-delete"
        onClick={() => {
          onStart();
          task.delete().catch(onFailure(`delete "${task.title}"`));
        }}
      >
        Delete
      </button>
    </li>
  );
}
