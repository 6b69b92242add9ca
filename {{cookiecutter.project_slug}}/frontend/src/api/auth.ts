import { apiRequest } from './client';

/** The signed-in user, as returned by `GET /api/auth/me/`. */
export interface User {
  id: number;
  username: string;
  email: string;
  first_name: string;
  last_name: string;
}

interface TokenResponse {
  token: string;
}

/**
 * Exchanges a username and password for a DRF token. Wrong credentials reject
 * with an `ApiError` of status 400 whose message comes from `non_field_errors`.
 */
export async function requestToken(
  username: string,
  password: string,
  signal?: AbortSignal,
): Promise<string> {
  const body = await apiRequest<TokenResponse>('/api/auth/token/', {
    method: 'POST',
    body: { username, password },
    signal,
    validate: isTokenResponse,
  });
  return body.token;
}

/** Fetches the user that owns `token`. An invalid token rejects with status 401. */
export function fetchCurrentUser(token: string, signal?: AbortSignal): Promise<User> {
  return apiRequest<User>('/api/auth/me/', { token, signal, validate: isUser });
}

/** Deletes `token` on the server, so it stops working on every device. */
export async function revokeToken(token: string, signal?: AbortSignal): Promise<void> {
  await apiRequest<undefined>('/api/auth/logout/', { method: 'POST', token, signal });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isTokenResponse(value: unknown): value is TokenResponse {
  return isRecord(value) && typeof value.token === 'string' && value.token !== '';
}

function isUser(value: unknown): value is User {
  return (
    isRecord(value) &&
    typeof value.id === 'number' &&
    typeof value.username === 'string' &&
    typeof value.email === 'string' &&
    typeof value.first_name === 'string' &&
    typeof value.last_name === 'string'
  );
}
