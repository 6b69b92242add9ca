import { describe, expect, it, vi } from 'vitest';

import { emptyResponse, jsonResponse, stubFetch } from '../test/fetchStub';
import { ApiError, apiRequest, errorMessageFromBody } from './client';

async function catchApiError(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) {
      return error;
    }
    throw error;
  }
  throw new Error('Expected the request to reject with an ApiError, but it resolved.');
}

describe('apiRequest', () => {
  it('sends a JSON body with its content type', async () => {
    const { requests } = stubFetch({
      'POST /api/items/': () => jsonResponse(201, { id: 7 }),
    });

    const result = await apiRequest<{ id: number }>('/api/items/', {
      method: 'POST',
      body: { name: 'first' },
    });

    expect(result).toEqual({ id: 7 });
    expect(requests).toHaveLength(1);
    expect(requests[0]?.body).toEqual({ name: 'first' });
    expect(requests[0]?.headers.get('Content-Type')).toBe('application/json');
    expect(requests[0]?.headers.get('Accept')).toBe('application/json');
  });

  it('sends GET without body or auth by default', async () => {
    const { fetchMock, requests } = stubFetch({
      'GET /api/items/': () => jsonResponse(200, []),
    });

    await apiRequest('/api/items/');

    expect(requests[0]?.body).toBeUndefined();
    expect(requests[0]?.headers.has('Content-Type')).toBe(false);
    expect(requests[0]?.headers.has('Authorization')).toBe(false);
    expect(fetchMock.mock.calls[0]?.[1]?.method).toBe('GET');
  });

  it('sends the token in the Authorization header', async () => {
    const { requests } = stubFetch({
      'GET /api/auth/me/': () => jsonResponse(200, {}),
    });

    await apiRequest('/api/auth/me/', { token: 'abc123' });

    expect(requests[0]?.headers.get('Authorization')).toBe('Token abc123');
  });

  it('resolves 204 to undefined', async () => {
    stubFetch({ 'POST /api/auth/logout/': () => emptyResponse(204) });

    const result = await apiRequest('/api/auth/logout/', { method: 'POST', token: 't' });

    expect(result).toBeUndefined();
  });

  it('rejects 400 with non_field_errors message', async () => {
    const body = { non_field_errors: ['Unable to log in with provided credentials.'] };
    stubFetch({ 'POST /api/auth/token/': () => jsonResponse(400, body) });

    const error = await catchApiError(
      apiRequest('/api/auth/token/', { method: 'POST', body: { username: 'a', password: 'b' } }),
    );

    expect(error.status).toBe(400);
    expect(error.message).toBe('Unable to log in with provided credentials.');
    expect(error.body).toEqual(body);
  });

  it('rejects 401 with the detail message', async () => {
    stubFetch({
      'GET /api/auth/me/': () => jsonResponse(401, { detail: 'Invalid token.' }),
    });

    const error = await catchApiError(apiRequest('/api/auth/me/', { token: 'stale' }));

    expect(error.status).toBe(401);
    expect(error.message).toBe('Invalid token.');
  });

  it('rejects non-JSON error with generic message', async () => {
    stubFetch({
      'GET /api/items/': () =>
        new Response('<h1>Bad Gateway</h1>', {
          status: 502,
          headers: { 'Content-Type': 'text/html' },
        }),
    });

    const error = await catchApiError(apiRequest('/api/items/'));

    expect(error.status).toBe(502);
    expect(error.message).toBe('GET /api/items/ failed with HTTP 502.');
    expect(error.body).toBe('<h1>Bad Gateway</h1>');
  });

  it('rejects malformed JSON body', async () => {
    stubFetch({
      'GET /api/items/': () =>
        new Response('{"id": ', { status: 200, headers: { 'Content-Type': 'application/json' } }),
    });

    const error = await catchApiError(apiRequest('/api/items/'));

    expect(error.status).toBe(200);
    expect(error.message).toBe('The server sent invalid JSON (HTTP 200).');
  });

  it('rejects network failure with status 0', async () => {
    vi.stubGlobal('fetch', vi.fn<typeof fetch>().mockRejectedValue(new TypeError('fetch failed')));

    const error = await catchApiError(apiRequest('/api/items/'));

    expect(error.status).toBe(0);
    expect(error.message).toBe(
      'GET /api/items/ failed: no response from the server (fetch failed). Check that the backend is running.',
    );
  });

  it('passes an abort error through unchanged', async () => {
    const abortError = new DOMException('The operation was aborted.', 'AbortError');
    vi.stubGlobal('fetch', vi.fn<typeof fetch>().mockRejectedValue(abortError));

    await expect(apiRequest('/api/items/')).rejects.toBe(abortError);
  });

  it('rejects a body that fails validation', async () => {
    stubFetch({ 'GET /api/items/': () => jsonResponse(200, { wrong: true }) });
    const hasId = (body: unknown): body is { id: number } =>
      typeof body === 'object' && body !== null && 'id' in body;

    const error = await catchApiError(apiRequest('/api/items/', { validate: hasId }));

    expect(error.status).toBe(200);
    expect(error.message).toBe('GET /api/items/ returned an unexpected response body.');
  });
});

describe('errorMessageFromBody', () => {
  it.each([
    ['detail string', { detail: 'Not found.' }, 'Not found.'],
    ['non_field_errors list', { non_field_errors: ['First.', 'Second.'] }, 'First. Second.'],
    [
      'field errors',
      { username: ['This field may not be blank.'], password: ['Too short.'] },
      'username: This field may not be blank. password: Too short.',
    ],
    ['empty object', {}, null],
    ['array body', ['error'], null],
    ['plain string', 'Server Error', null],
    ['null', null, null],
  ])('handles %s', (_case, body, expected) => {
    expect(errorMessageFromBody(body)).toBe(expected);
  });
});
