import { act, render, screen } from '@testing-library/react';
import { StrictMode } from 'react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ContextChannel } from './channel';
import { useChannelInstance, useChannelState } from './hooks';
import { isPending } from './writes';
import {
  TASK,
  projectInstances,
  projectModel,
  type Project,
  type Task,
} from './test/projectFixture';
import {
  TestServer,
  TestWebSocket,
  countingWebSocket,
  silentLogger,
  waitFor,
} from './test/wsServer';
import type { Savable, WebSocketConstructor } from './types';

let server: TestServer;

beforeEach(async () => {
  server = await TestServer.start();
});

afterEach(async () => {
  await server.stop();
});

function createChannel(WebSocket: WebSocketConstructor = TestWebSocket): ContextChannel<Project> {
  return new ContextChannel<Project>(
    projectModel,
    'ws/project/{project_id}/',
    { project_id: 1 },
    'token',
    {
      baseUrl: server.baseUrl,
      WebSocket,
      logger: silentLogger,
    },
  );
}

function ProjectView({ channel }: { channel: ContextChannel<Project> }) {
  const { state, connected } = useChannelState(channel);
  const project = Array.isArray(state) ? undefined : state;
  return (
    <div>
      <p data-testid="status">{connected ? 'online' : 'offline'}</p>
      <h1>{project?.name ?? 'loading'}</h1>
      <ul>
        {project?.tasks.map((task) => (
          <li key={task.id}>{task.title}</li>
        ))}
      </ul>
    </div>
  );
}

function TaskTitle({ channel, id }: { channel: ContextChannel<Project>; id: number }) {
  const task = useChannelInstance<Task>(channel, TASK, id);
  return <p data-testid="task">{task?.title ?? 'no task'}</p>;
}

/** Waits for a server-side condition while letting React process the channel's updates. */
async function settle(condition: () => boolean): Promise<void> {
  await act(async () => {
    await waitFor(condition);
  });
}

describe('useChannelState', () => {
  it('opens one socket in StrictMode', async () => {
    const sockets = countingWebSocket();
    const channel = createChannel(sockets.WebSocket);
    const view = render(
      <StrictMode>
        <ProjectView channel={channel} />
      </StrictMode>,
    );

    const connection = await server.connection(0);
    await connection.frame(0);
    await act(async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
    });
    expect(sockets.created()).toBe(1);

    view.unmount();
    const closed = await connection.closed;

    expect(closed.code).toBe(1000);
    expect(sockets.created()).toBe(1);
    expect(server.connections).toHaveLength(1);
  });

  it('renders state and updates', async () => {
    const channel = createChannel();
    render(
      <StrictMode>
        <ProjectView channel={channel} />
      </StrictMode>,
    );
    expect(screen.getByRole('heading')).toHaveTextContent('loading');

    const connection = await server.connection(0);
    await connection.frame(0);
    connection.send({ type: 'auth', statusCode: 200 });
    connection.send({ type: 'initialAnchors', anchorIds: [1] });
    connection.send({ type: 'instances', instances: projectInstances });
    connection.send({ type: 'initialStateEnd', anchorId: 1, tstamp: 10 });
    await settle(() => channel.getSnapshot().loaded);

    expect(screen.getByRole('heading')).toHaveTextContent('Launch');
    expect(screen.getByTestId('status')).toHaveTextContent('online');
    expect(screen.getAllByRole('listitem').map((item) => item.textContent)).toEqual([
      'Write docs',
      'Ship',
    ]);

    connection.send({
      type: 'instances',
      instances: [
        { id: 101, _instance_type: TASK, _tstamp: 11, _operation: 'update', title: 'Ship it' },
      ],
    });
    await settle(() => channel.getInstance<Task>(TASK, 101)?.title === 'Ship it');

    expect(screen.getAllByRole('listitem').map((item) => item.textContent)).toEqual([
      'Write docs',
      'Ship it',
    ]);
  });
});

describe('useChannelInstance', () => {
  it('renders one instance', async () => {
    const channel = createChannel();
    render(
      <StrictMode>
        <TaskTitle channel={channel} id={100} />
      </StrictMode>,
    );
    expect(screen.getByTestId('task')).toHaveTextContent('no task');

    const connection = await server.connection(0);
    await connection.frame(0);
    connection.send({ type: 'auth', statusCode: 200 });
    connection.send({ type: 'initialAnchors', anchorIds: [1] });
    connection.send({ type: 'instances', instances: projectInstances });
    await settle(() => channel.getInstance(TASK, 100) !== undefined);

    expect(screen.getByTestId('task')).toHaveTextContent('Write docs');
  });
});

type WritableTask = Task & Savable<Task>;
type WritableProject = Omit<Project, 'tasks'> & { tasks: WritableTask[] };

class WritableProjectChannel extends ContextChannel<WritableProject> {
  static override readonly writable = { [TASK]: ['save'] } as const;
}

function PendingTasks({ channel }: { channel: WritableProjectChannel }) {
  const snapshot = useChannelState(channel);
  const project = Array.isArray(snapshot.state) ? undefined : snapshot.state;
  return (
    <ul>
      {project?.tasks.map((task) => (
        <li key={task.id} data-pending={isPending(snapshot, TASK, task.id) ? 'yes' : 'no'}>
          {task.title}
        </li>
      ))}
    </ul>
  );
}

describe('useChannelState pending writes', () => {
  it('shows a write until confirmed', async () => {
    const channel = new WritableProjectChannel(
      projectModel,
      'ws/project/{project_id}/',
      { project_id: 1 },
      'token',
      { baseUrl: server.baseUrl, WebSocket: TestWebSocket, logger: silentLogger },
    );
    render(<PendingTasks channel={channel} />);
    const connection = await server.connection(0);
    await connection.frame(0);
    connection.send({ type: 'auth', statusCode: 200 });
    connection.send({ type: 'initialAnchors', anchorIds: [1] });
    connection.send({ type: 'instances', instances: projectInstances });
    await settle(() => channel.getInstance(TASK, 101) !== undefined);
    const task = channel.getInstance<WritableTask>(TASK, 101);

    let saved: Promise<void> | undefined;
    act(() => {
      saved = task?.save({ title: 'Ship now' });
    });

    const row = screen.getByText('Ship now');
    expect(row).toHaveAttribute('data-pending', 'yes');
    expect(screen.getByText('Write docs')).toHaveAttribute('data-pending', 'no');
    expect(channel.getSnapshot().pendingWrites).toEqual([
      { writeId: 1, operation: 'save', instanceType: TASK, instanceId: 101 },
    ]);

    await connection.frame(1);
    connection.send({ type: 'writeResponse', writeId: 1, success: true });
    await act(async () => {
      await saved;
    });

    expect(screen.getByText('Ship now')).toHaveAttribute('data-pending', 'no');
  });
});
