import { defineConfig } from 'vitest/config';

// Tests in integration/ talk to a running backend, which e2e/test_generated_client.py
// starts and describes through RX_* environment variables. `npm test` leaves them out.
export default defineConfig({
  test: {
    environment: 'node',
    include: ['integration/**/*.test.ts'],
    testTimeout: 30_000,
  },
});
