import { Navigate, Outlet, useLocation } from 'react-router';

import type { LoginRedirectState } from './redirect';
import { useAuth } from './useAuth';

/**
 * Layout route that renders its child routes only for a signed-in user.
 * Anonymous visitors go to /login, which returns them here after login.
 */
export function RequireAuth() {
  const auth = useAuth();
  const location = useLocation();

  switch (auth.status) {
    case 'anonymous': {
      const state: LoginRedirectState = {
        from: location.pathname + location.search + location.hash,
      };
      return <Navigate to="/login" replace state={state} />;
    }

    case 'loading':
      return (
        <main className="page">
          <p role="status">Loading your account…</p>
        </main>
      );

    case 'error':
      return (
        <main className="page">
          <div className="card">
            <p className="error" role="alert" data-testid="auth-load-error">
              Could not load your account: {auth.error.message}
            </p>
            <div className="actions">
              <button type="button" onClick={auth.retry}>
                Try again
              </button>
              <button type="button" className="secondary" onClick={auth.discardToken}>
                Sign in again
              </button>
            </div>
          </div>
        </main>
      );

    case 'authenticated':
      return <Outlet />;
  }
}
