import { useState, type FormEvent } from 'react';
import { Navigate, useLocation } from 'react-router';

import { pathAfterLogin } from '../auth/redirect';
import { useAuth } from '../auth/useAuth';

export function LoginPage() {
  const auth = useAuth();
  const location = useLocation();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);

  if (auth.status === 'authenticated') {
    return <Navigate to={pathAfterLogin(location.state)} replace />;
  }

  async function submitCredentials() {
    setError(null);
    setSubmitting(true);
    try {
      await auth.login(username, password);
    } catch (loginError) {
      setError(loginError instanceof Error ? loginError.message : String(loginError));
    } finally {
      setSubmitting(false);
    }
  }

  function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    void submitCredentials();
  }

  return (
    <main className="page page-narrow">
      <form className="card" onSubmit={handleSubmit} aria-labelledby="login-heading">
        <h1 id="login-heading">Sign in</h1>

        <label htmlFor="login-username">Username</label>
        <input
          id="login-username"
          data-testid="login-username"
          name="username"
          autoComplete="username"
          required
          value={username}
          onChange={(event) => {
            setUsername(event.target.value);
          }}
        />

        <label htmlFor="login-password">Password</label>
        <input
          id="login-password"
          data-testid="login-password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(event) => {
            setPassword(event.target.value);
          }}
        />

        {error !== null && (
          <p className="error" role="alert" data-testid="login-error">
            {error}
          </p>
        )}

        <button type="submit" data-testid="login-submit" disabled={submitting}>
          {submitting ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
