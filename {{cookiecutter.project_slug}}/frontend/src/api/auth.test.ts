import { describe, expect, it } from 'vitest';

import { emptyResponse, jsonResponse, stubFetch } from '../test/fetchStub';
import { fetchCurrentUser, requestToken, revokeToken } from './auth';
import { ApiError } from './client';

const ALICE = {
  id: 1,
  username: 'alice',
  email: 'alice@example.com',
  first_name: 'Alice',
  last_name: 'Liddell',
};

describe('requestToken', () => {
  it('posts credentials and returns token', async () => {
    const { requests } = stubFetch({
      'POST /api/auth/token/': () => jsonResponse(200, { token: 'tok-1' }),
    });

    const token = await requestToken('alice', 'demo-password');

    expect(token).toBe('tok-1');
    expect(requests[0]?.body).toEqual({ username: 'alice', password: 'demo-password' });
  });

  it('rejects bad credentials with 400', async () => {
    stubFetch({
      'POST /api/auth/token/': () =>
        jsonResponse(400, { non_field_errors: ['Unable to log in with provided credentials.'] }),
    });

    const promise = requestToken('alice', 'wrong');

    await expect(promise).rejects.toBeInstanceOf(ApiError);
    await expect(promise).rejects.toMatchObject({
      status: 400,
      message: 'Unable to log in with provided credentials.',
    });
  });

  it('rejects a response without token', async () => {
    stubFetch({ 'POST /api/auth/token/': () => jsonResponse(200, { key: 'tok-1' }) });

    await expect(requestToken('alice', 'demo-password')).rejects.toMatchObject({
      status: 200,
      message: 'POST /api/auth/token/ returned an unexpected response body.',
    });
  });
});

describe('fetchCurrentUser', () => {
  it('returns the user of the token', async () => {
    const { requests } = stubFetch({ 'GET /api/auth/me/': () => jsonResponse(200, ALICE) });

    const user = await fetchCurrentUser('tok-1');

    expect(user).toEqual(ALICE);
    expect(requests[0]?.headers.get('Authorization')).toBe('Token tok-1');
  });

  it('rejects an invalid token with 401', async () => {
    stubFetch({
      'GET /api/auth/me/': () => jsonResponse(401, { detail: 'Invalid token.' }),
    });

    await expect(fetchCurrentUser('stale')).rejects.toMatchObject({
      status: 401,
      message: 'Invalid token.',
    });
  });

  it('rejects a user without username', async () => {
    stubFetch({ 'GET /api/auth/me/': () => jsonResponse(200, { ...ALICE, username: null }) });

    await expect(fetchCurrentUser('tok-1')).rejects.toMatchObject({
      message: 'GET /api/auth/me/ returned an unexpected response body.',
    });
  });
});

describe('revokeToken', () => {
  it('posts logout with the token', async () => {
    const { requests } = stubFetch({ 'POST /api/auth/logout/': () => emptyResponse(204) });

    await expect(revokeToken('tok-1')).resolves.toBeUndefined();

    expect(requests).toHaveLength(1);
    expect(requests[0]?.headers.get('Authorization')).toBe('Token tok-1');
  });
});
