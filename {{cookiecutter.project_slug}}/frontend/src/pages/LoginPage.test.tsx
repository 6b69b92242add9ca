import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';

import { TOKEN_STORAGE_KEY } from '../auth/tokenStorage';
import { jsonResponse, stubFetch } from '../test/fetchStub';
import { renderApp } from '../test/renderApp';

const ALICE = {
  id: 1,
  username: 'alice',
  email: 'alice@example.com',
  first_name: 'Alice',
  last_name: 'Liddell',
};

async function fillAndSubmit(username: string, password: string) {
  const user = userEvent.setup();
  await user.type(screen.getByTestId('login-username'), username);
  await user.type(screen.getByTestId('login-password'), password);
  await user.click(screen.getByTestId('login-submit'));
}

describe('LoginPage', () => {
  it('submits credentials and opens home', async () => {
    const { requests } = stubFetch({
      'POST /api/auth/token/': () => jsonResponse(200, { token: 'tok-1' }),
      'GET /api/auth/me/': () => jsonResponse(200, ALICE),
    });
    const { router } = renderApp('/login');

    await fillAndSubmit('alice', 'demo-password');

    expect(await screen.findByTestId('home-username')).toHaveTextContent('alice');
    expect(router.state.location.pathname).toBe('/');
    expect(localStorage.getItem(TOKEN_STORAGE_KEY)).toBe('tok-1');
    expect(requests.map((request) => `${request.method} ${request.url}`)).toEqual([
      'POST /api/auth/token/',
      'GET /api/auth/me/',
    ]);
    expect(requests[0]?.body).toEqual({ username: 'alice', password: 'demo-password' });
    expect(requests[1]?.headers.get('Authorization')).toBe('Token tok-1');
  });

  it('shows the error on 400', async () => {
    stubFetch({
      'POST /api/auth/token/': () =>
        jsonResponse(400, { non_field_errors: ['Unable to log in with provided credentials.'] }),
    });
    const { router } = renderApp('/login');

    await fillAndSubmit('alice', 'wrong-password');

    expect(await screen.findByTestId('login-error')).toHaveTextContent(
      'Unable to log in with provided credentials.',
    );
    expect(router.state.location.pathname).toBe('/login');
    expect(localStorage.getItem(TOKEN_STORAGE_KEY)).toBeNull();
    expect(screen.getByTestId('login-submit')).toBeEnabled();
  });

  it('clears the error on resubmit', async () => {
    let attempts = 0;
    stubFetch({
      'POST /api/auth/token/': () => {
        attempts += 1;
        return attempts === 1
          ? jsonResponse(400, { non_field_errors: ['Unable to log in with provided credentials.'] })
          : jsonResponse(200, { token: 'tok-2' });
      },
      'GET /api/auth/me/': () => jsonResponse(200, ALICE),
    });
    renderApp('/login');

    await fillAndSubmit('alice', 'wrong');
    expect(await screen.findByTestId('login-error')).toBeInTheDocument();
    await userEvent.setup().click(screen.getByTestId('login-submit'));

    expect(await screen.findByTestId('home-username')).toHaveTextContent('alice');
    expect(screen.queryByTestId('login-error')).not.toBeInTheDocument();
  });

  it('disables submit while pending', async () => {
    let respond: (response: Response) => void = () => undefined;
    stubFetch({
      'POST /api/auth/token/': () =>
        new Promise<Response>((resolve) => {
          respond = resolve;
        }),
    });
    renderApp('/login');

    await fillAndSubmit('alice', 'demo-password');

    expect(screen.getByTestId('login-submit')).toBeDisabled();
    expect(screen.getByTestId('login-submit')).toHaveTextContent('Signing in…');

    const badCredentials = { non_field_errors: ['Unable to log in with provided credentials.'] };
    respond(jsonResponse(400, badCredentials));
    await waitFor(() => {
      expect(screen.getByTestId('login-submit')).toBeEnabled();
    });
  });

  it('shows network failure message', async () => {
    stubFetch({
      'POST /api/auth/token/': () => Promise.reject(new TypeError('fetch failed')),
    });
    renderApp('/login');

    await fillAndSubmit('alice', 'demo-password');

    expect(await screen.findByTestId('login-error')).toHaveTextContent(
      'POST /api/auth/token/ failed: no response from the server (fetch failed). Check that the backend is running.',
    );
  });

  it('sends a signed-in user home', async () => {
    localStorage.setItem(TOKEN_STORAGE_KEY, 'tok-1');
    stubFetch({ 'GET /api/auth/me/': () => jsonResponse(200, ALICE) });
    const { router } = renderApp('/login');

    expect(await screen.findByTestId('home-username')).toHaveTextContent('alice');
    expect(router.state.location.pathname).toBe('/');
  });
});
