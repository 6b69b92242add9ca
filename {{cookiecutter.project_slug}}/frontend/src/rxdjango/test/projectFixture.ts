import type { ChannelModel, FlatInstance } from '../types';

// A recorded initial state of a project channel, written by hand: a project with an owner,
// tasks, comments, users and tags. User 10 is referenced three times (owner, assignee and
// comment author) and tag 1000 twice, so shared instances are covered.

export const PROJECT = 'board.serializers.ProjectSerializer';
export const TASK = 'board.serializers.TaskSerializer';
export const COMMENT = 'board.serializers.CommentSerializer';
export const USER = 'board.serializers.UserSerializer';
export const TAG = 'board.serializers.TagSerializer';

export const projectModel: ChannelModel = {
  anchor: PROJECT,
  many: false,
  layers: {
    [PROJECT]: { owner: USER, tasks: TASK, tags: TAG },
    [TASK]: { assignee: USER, comments: COMMENT, tags: TAG },
    [COMMENT]: { author: USER },
    [USER]: {},
    [TAG]: {},
  },
  lists: {
    [PROJECT]: ['tasks', 'tags'],
    [TASK]: ['comments', 'tags'],
  },
};

export const projectListModel: ChannelModel = { ...projectModel, many: true };

function flat(type: string, id: number, fields: Record<string, unknown>, tstamp = 1): FlatInstance {
  return { id, _instance_type: type, _tstamp: tstamp, _operation: 'initial_state', ...fields };
}

export const projectInstances: FlatInstance[] = [
  flat(PROJECT, 1, { name: 'Launch', owner: 10, tasks: [100, 101], tags: [1000] }),
  flat(TASK, 100, {
    title: 'Write docs',
    done: false,
    assignee: 10,
    comments: [200, 201],
    tags: [1000, 1001],
  }),
  flat(TASK, 101, { title: 'Ship', done: true, assignee: null, comments: [], tags: [] }),
  flat(COMMENT, 200, { text: 'Started', author: 10 }),
  flat(COMMENT, 201, { text: 'Looks good', author: 11 }),
  flat(USER, 10, { username: 'ana' }),
  flat(USER, 11, { username: 'ben' }),
  flat(TAG, 1000, { name: 'urgent' }),
  flat(TAG, 1001, { name: 'docs' }),
];

const ana = { id: 10, _instance_type: USER, _tstamp: 1, username: 'ana' };
const ben = { id: 11, _instance_type: USER, _tstamp: 1, username: 'ben' };
const urgent = { id: 1000, _instance_type: TAG, _tstamp: 1, name: 'urgent' };
const docs = { id: 1001, _instance_type: TAG, _tstamp: 1, name: 'docs' };

/** The nested state that `projectInstances` builds. */
export const expectedProject = {
  id: 1,
  _instance_type: PROJECT,
  _tstamp: 1,
  name: 'Launch',
  owner: ana,
  tags: [urgent],
  tasks: [
    {
      id: 100,
      _instance_type: TASK,
      _tstamp: 1,
      title: 'Write docs',
      done: false,
      assignee: ana,
      tags: [urgent, docs],
      comments: [
        { id: 200, _instance_type: COMMENT, _tstamp: 1, text: 'Started', author: ana },
        { id: 201, _instance_type: COMMENT, _tstamp: 1, text: 'Looks good', author: ben },
      ],
    },
    {
      id: 101,
      _instance_type: TASK,
      _tstamp: 1,
      title: 'Ship',
      done: true,
      assignee: null,
      comments: [],
      tags: [],
    },
  ],
};

export interface User {
  id: number;
  username: string;
}

export interface Tag {
  id: number;
  name: string;
}

export interface Comment {
  id: number;
  text: string;
  author: User | null;
}

export interface Task {
  id: number;
  title: string;
  done: boolean;
  assignee: User | null;
  comments: Comment[];
  tags: Tag[];
}

export interface Project {
  id: number;
  name: string;
  owner: User | null;
  tasks: Task[];
  tags: Tag[];
}
