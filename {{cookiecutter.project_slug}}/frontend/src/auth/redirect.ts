/** Router location state that <RequireAuth> passes to the login page. */
export interface LoginRedirectState {
  from: string;
}

/**
 * Returns the path to open after login: the page that sent the user to
 * /login, or `/`. Only same-origin paths are accepted, so a crafted state
 * cannot send the user to another site.
 */
export function pathAfterLogin(locationState: unknown): string {
  if (typeof locationState !== 'object' || locationState === null) {
    return '/';
  }

  const from = (locationState as Partial<LoginRedirectState>).from;
  if (typeof from !== 'string' || !from.startsWith('/') || from.startsWith('//')) {
    return '/';
  }
  if (from === '/login' || from.startsWith('/login?')) {
    return '/';
  }
  return from;
}
