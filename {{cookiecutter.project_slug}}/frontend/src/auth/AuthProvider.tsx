import { useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';

import { fetchCurrentUser, requestToken, revokeToken, type User } from '../api/auth';
import { ApiError } from '../api/client';
import { AuthContext, type AuthContextValue, type AuthSession } from './authContext';
import { clearStoredToken, readStoredToken, storeToken } from './tokenStorage';

const ANONYMOUS: AuthSession = { status: 'anonymous', token: null, user: null, error: null };

function initialSession(): AuthSession {
  const token = readStoredToken();
  if (token === null) {
    return ANONYMOUS;
  }
  return { status: 'loading', token, user: null, error: null };
}

// DRF returns 401 for a missing or invalid token when TokenAuthentication is
// the first authentication class, and 403 when another class comes first.
function isRejectedToken(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 401 || error.status === 403);
}

/** Provides the auth session to the app and checks a stored token on load. */
export function AuthProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<AuthSession>(initialSession);

  const pendingToken = session.status === 'loading' ? session.token : null;

  useEffect(() => {
    if (pendingToken === null) {
      return;
    }

    // Aborted when the token changes or the provider unmounts, so a late
    // response never overwrites a newer session.
    const controller = new AbortController();

    const onUserLoaded = (user: User) => {
      if (controller.signal.aborted) {
        return;
      }
      setSession({ status: 'authenticated', token: pendingToken, user, error: null });
    };

    const onLoadFailed = (error: unknown) => {
      if (controller.signal.aborted) {
        return;
      }
      if (isRejectedToken(error)) {
        clearStoredToken();
        setSession(ANONYMOUS);
        return;
      }
      const cause = error instanceof Error ? error : new Error(String(error));
      setSession({ status: 'error', token: pendingToken, user: null, error: cause });
    };

    fetchCurrentUser(pendingToken, controller.signal).then(onUserLoaded, onLoadFailed);

    return () => {
      controller.abort();
    };
  }, [pendingToken]);

  const login = useCallback(async (username: string, password: string) => {
    const token = await requestToken(username, password);
    const user = await fetchCurrentUser(token);

    storeToken(token);
    setSession({ status: 'authenticated', token, user, error: null });
  }, []);

  const currentToken = session.token;

  const logout = useCallback(async () => {
    clearStoredToken();
    setSession(ANONYMOUS);

    if (currentToken === null) {
      return;
    }
    try {
      await revokeToken(currentToken);
    } catch (error) {
      // A rejected token is already unusable, so only other failures are worth a warning.
      if (!isRejectedToken(error)) {
        console.warn('Logout: the server did not delete the auth token.', error);
      }
    }
  }, [currentToken]);

  const discardToken = useCallback(() => {
    clearStoredToken();
    setSession(ANONYMOUS);
  }, []);

  const retry = useCallback(() => {
    setSession((previous) =>
      previous.status === 'error'
        ? { status: 'loading', token: previous.token, user: null, error: null }
        : previous,
    );
  }, []);

  const value = useMemo<AuthContextValue>(
    () => ({ ...session, login, logout, discardToken, retry }),
    [session, login, logout, discardToken, retry],
  );

  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}
