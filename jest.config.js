// Three projects, run by `npm test` in this order of cost:
//  unit        *.test.ts next to the code they test (pure, no network)
//  integration test/integration: real NATS, Cassandra, MinIO, Jaeger
//  e2e         test/e2e: real Telegram client libraries against the local stack
//  stack       test/e2e/stack.test.ts, outbox.test.ts, messaging-failover.test.ts: stop and
//              restart (parts of) the stack
const transform = {
  '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }],
};
const common = { transform, testEnvironment: 'node', moduleFileExtensions: ['ts', 'js', 'json'] };
module.exports = {
  // testTimeout is global in Jest (not per project): generous, for suites that talk to the stack.
  testTimeout: 60_000,
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/services/**/*.test.ts', '<rootDir>/tools/**/*.test.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      slowTestThreshold: 30,
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
      testPathIgnorePatterns: [
        '/node_modules/',
        '/test/e2e/stack.test.ts',
        '/test/e2e/outbox.test.ts',
        '/test/e2e/messaging-failover.test.ts',
      ],
      slowTestThreshold: 60,
    },
    // Stop and restart (parts of) the stack: run last and alone (tools/test.sh).
    {
      ...common,
      displayName: 'stack',
      testMatch: [
        '<rootDir>/test/e2e/outbox.test.ts',
        '<rootDir>/test/e2e/messaging-failover.test.ts',
        '<rootDir>/test/e2e/stack.test.ts',
      ],
    },
  ],
};
