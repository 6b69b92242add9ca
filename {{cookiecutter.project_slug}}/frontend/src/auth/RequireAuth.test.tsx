import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';

import { emptyResponse, jsonResponse, stubFetch } from '../test/fetchStub';
import { renderApp } from '../test/renderApp';
import { TOKEN_STORAGE_KEY } from './tokenStorage';

const ALICE = {
  id: 1,
  username: 'alice',
  email: 'alice@example.com',
  first_name: 'Alice',
  last_name: 'Liddell',
};

describe('RequireAuth', () => {
  it('redirects anonymous visitor to login', async () => {
    const { fetchMock } = stubFetch({});
    const { router } = renderApp('/');

    expect(await screen.findByTestId('login-username')).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/login');
    expect(router.state.location.state).toEqual({ from: '/' });
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it('returns to the requested page after login', async () => {
    stubFetch({
      'POST /api/auth/token/': () => jsonResponse(200, { token: 'tok-1' }),
      'GET /api/auth/me/': () => jsonResponse(200, ALICE),
    });
    const { router } = renderApp('/?tab=recent');
    const user = userEvent.setup();

    await user.type(await screen.findByTestId('login-username'), 'alice');
    await user.type(screen.getByTestId('login-password'), 'demo-password');
    await user.click(screen.getByTestId('login-submit'));

    expect(await screen.findByTestId('home-username')).toHaveTextContent('alice');
    expect(router.state.location.pathname).toBe('/');
    expect(router.state.location.search).toBe('?tab=recent');
  });

  it('shows home for a valid stored token', async () => {
    localStorage.setItem(TOKEN_STORAGE_KEY, 'tok-1');
    const { requests } = stubFetch({ 'GET /api/auth/me/': () => jsonResponse(200, ALICE) });
    renderApp('/');

    expect(screen.getByRole('status')).toHaveTextContent('Loading your account…');
    expect(await screen.findByTestId('home-username')).toHaveTextContent('alice');
    expect(requests[0]?.headers.get('Authorization')).toBe('Token tok-1');
  });

  it('sends a rejected stored token to login', async () => {
    localStorage.setItem(TOKEN_STORAGE_KEY, 'stale');
    stubFetch({
      'GET /api/auth/me/': () => jsonResponse(401, { detail: 'Invalid token.' }),
    });
    const { router } = renderApp('/');

    expect(await screen.findByTestId('login-username')).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/login');
    expect(localStorage.getItem(TOKEN_STORAGE_KEY)).toBeNull();
  });

  it('keeps the token when the server fails', async () => {
    localStorage.setItem(TOKEN_STORAGE_KEY, 'tok-1');
    let attempts = 0;
    stubFetch({
      'GET /api/auth/me/': () => {
        attempts += 1;
        return attempts === 1
          ? jsonResponse(500, { detail: 'Internal error.' })
          : jsonResponse(200, ALICE);
      },
    });
    renderApp('/');

    expect(await screen.findByTestId('auth-load-error')).toHaveTextContent(
      'Could not load your account: Internal error.',
    );
    expect(localStorage.getItem(TOKEN_STORAGE_KEY)).toBe('tok-1');

    await userEvent.setup().click(screen.getByRole('button', { name: 'Try again' }));

    expect(await screen.findByTestId('home-username')).toHaveTextContent('alice');
    expect(attempts).toBe(2);
  });

  it('discards the token on request', async () => {
    localStorage.setItem(TOKEN_STORAGE_KEY, 'tok-1');
    stubFetch({ 'GET /api/auth/me/': () => Promise.reject(new TypeError('fetch failed')) });
    const { router } = renderApp('/');

    await userEvent
      .setup()
      .click(await screen.findByRole('button', { name: 'Sign in again' }));

    expect(await screen.findByTestId('login-username')).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/login');
    expect(localStorage.getItem(TOKEN_STORAGE_KEY)).toBeNull();
  });
});

describe('HomePage logout', () => {
  it('revokes the token and shows login', async () => {
    localStorage.setItem(TOKEN_STORAGE_KEY, 'tok-1');
    const { requests } = stubFetch({
      'GET /api/auth/me/': () => jsonResponse(200, ALICE),
      'POST /api/auth/logout/': () => emptyResponse(204),
    });
    const { router } = renderApp('/');

    await userEvent.setup().click(await screen.findByTestId('logout-button'));

    expect(await screen.findByTestId('login-username')).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/login');
    expect(localStorage.getItem(TOKEN_STORAGE_KEY)).toBeNull();
    await waitFor(() => {
      expect(requests.map((request) => `${request.method} ${request.url}`)).toContain(
        'POST /api/auth/logout/',
      );
    });
    const logoutRequest = requests.find((request) => request.url === '/api/auth/logout/');
    expect(logoutRequest?.headers.get('Authorization')).toBe('Token tok-1');
  });
});
