import { createContext } from 'react';

import type { User } from '../api/auth';

/**
 * Authentication state. In `loading`, `GET /api/auth/me/` is checking a stored
 * token. In `error`, that check failed for a reason other than an invalid
 * token (server down, HTTP 500), so the token is kept for a retry.
 */
export type AuthSession =
  | { status: 'anonymous'; token: null; user: null; error: null }
  | { status: 'loading'; token: string; user: null; error: null }
  | { status: 'authenticated'; token: string; user: User; error: null }
  | { status: 'error'; token: string; user: null; error: Error };

export interface AuthActions {
  /**
   * Obtains a token, loads its user and stores the token in localStorage.
   * Rejects with an `ApiError` on failure.
   */
  login: (username: string, password: string) => Promise<void>;
  /**
   * Forgets the token locally, then sends `POST /api/auth/logout/` so the
   * server deletes it. Never rejects. A failed logout request is logged as a
   * warning, except a 401 or 403 for a token the server already rejects.
   */
  logout: () => Promise<void>;
  /** Forgets the token without calling the server, for when the server has rejected it. */
  discardToken: () => void;
  /** Checks the stored token again after a failed check (`status === 'error'`). */
  retry: () => void;
}

export type AuthContextValue = AuthSession & AuthActions;

export const AuthContext = createContext<AuthContextValue | null>(null);
