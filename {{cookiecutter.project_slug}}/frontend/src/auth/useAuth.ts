import { useContext } from 'react';

import type { User } from '../api/auth';
import { AuthContext, type AuthContextValue } from './authContext';

export function useAuth(): AuthContextValue {
  const auth = useContext(AuthContext);
  if (auth === null) {
    throw new Error('useAuth must be called inside <AuthProvider>.');
  }
  return auth;
}

/**
 * Returns the signed-in user and the auth actions, and throws when no user is
 * loaded. Call it only in pages under <RequireAuth>, which waits for the user.
 */
export function useCurrentUser(): AuthContextValue & { user: User; token: string } {
  const auth = useAuth();
  if (auth.status !== 'authenticated') {
    throw new Error(
      `useCurrentUser requires a signed-in user but the auth status is "${auth.status}". ` +
        'Render this component under <RequireAuth>.',
    );
  }
  return auth;
}
