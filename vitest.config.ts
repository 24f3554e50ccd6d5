import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'lib/**/*.test.ts', 'local/**/*.test.ts', 'infra/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // DynamoDB Local for every test that uses local/stand-ins/dynamodb.ts.
    globalSetup: ['test/support/dynamodb-local.ts'],
  },
});
