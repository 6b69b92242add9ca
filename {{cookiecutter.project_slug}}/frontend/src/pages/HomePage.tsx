import type { ReactNode } from 'react';

import { useCurrentUser } from '../auth/useAuth';

/** Renders the signed-in user's start page, with `children` below the account card. */
export function HomePage({ children }: { children?: ReactNode }) {
  const { user, logout } = useCurrentUser();
  const fullName = `${user.first_name} ${user.last_name}`.trim();

  return (
    <main className="page">
      <div className="card">
        <h1>Welcome</h1>
        <p>
          Signed in as <strong data-testid="home-username">{user.username}</strong>
          {fullName !== '' && <> ({fullName})</>}
        </p>
        {user.email !== '' && <p className="muted">{user.email}</p>}
        <div className="actions">
          <button
            type="button"
            className="secondary"
            data-testid="logout-button"
            onClick={() => {
              void logout();
            }}
          >
            Sign out
          </button>
        </div>
      </div>
      {children}
    </main>
  );
}
