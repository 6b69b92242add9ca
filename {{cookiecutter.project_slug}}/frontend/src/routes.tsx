import type { RouteObject } from 'react-router';

import { RequireAuth } from './auth/RequireAuth';
{%- if cookiecutter.include_example_app == 'y' %}
import { BoardList } from './board/BoardList';
import { BoardPage } from './board/BoardPage';
{%- endif %}
import { HomePage } from './pages/HomePage';
import { LoginPage } from './pages/LoginPage';
import { NotFoundPage } from './pages/NotFoundPage';

/**
 * The app's routes. Pages that need a signed-in user go in the children of
 * the <RequireAuth> route, for example `{ path: 'boards/:boardId', element: <BoardPage /> }`.
 */
export const routes: RouteObject[] = [
  { path: '/login', element: <LoginPage /> },
  {
    path: '/',
    element: <RequireAuth />,
{%- if cookiecutter.include_example_app == 'y' %}
    children: [
      {
        index: true,
        element: (
          <HomePage>
            <BoardList />
          </HomePage>
        ),
      },
      { path: 'boards/:boardId', element: <BoardPage /> },
    ],
{%- else %}
    children: [{ index: true, element: <HomePage /> }],
{%- endif %}
  },
  { path: '*', element: <NotFoundPage /> },
];
