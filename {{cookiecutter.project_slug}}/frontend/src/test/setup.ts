import '@testing-library/jest-dom/vitest';
import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';

// Testing Library unmounts automatically only when Vitest globals are on,
// and this project imports test functions explicitly instead.
afterEach(() => {
  cleanup();
  localStorage.clear();
});
