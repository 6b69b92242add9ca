/** localStorage key that stores the DRF token between page loads. */
export const TOKEN_STORAGE_KEY = 'authToken';

// Reading or writing localStorage throws when storage is disabled (for example
// by browser privacy settings). The session then lasts until the page reloads.

export function readStoredToken(): string | null {
  try {
    const token = localStorage.getItem(TOKEN_STORAGE_KEY);
    return token === '' ? null : token;
  } catch (error) {
    console.warn('Could not read the auth token from localStorage.', error);
    return null;
  }
}

export function storeToken(token: string): void {
  try {
    localStorage.setItem(TOKEN_STORAGE_KEY, token);
  } catch (error) {
    console.warn(
      'Could not save the auth token to localStorage. The session ends when the page reloads.',
      error,
    );
  }
}

export function clearStoredToken(): void {
  try {
    localStorage.removeItem(TOKEN_STORAGE_KEY);
  } catch (error) {
    console.warn('Could not remove the auth token from localStorage.', error);
  }
}
