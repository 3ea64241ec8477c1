// Lint rules that keep Tern's package boundaries honest.
//
// Every service under services/<name>/ is a deployable unit. It may import
// shared code (services/shared) and the generated contracts
// (services/shared/src/gen), never another service's source: services talk
// over gRPC and NATS only, and proto/ is the only contract between them.
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

const SERVICES = ['gateway', 'auth', 'messaging', 'channel', 'media'];

/** Imports no service code may use, whatever its package. */
const FORBIDDEN_EVERYWHERE = [
  {
    name: 'node:async_hooks',
    importNames: ['AsyncLocalStorage'],
    message: 'Pass what a call needs as a parameter; side channels make behaviour depend on call order.',
  },
];

/** One override per service that forbids reaching into the other services. */
const boundaryRules = SERVICES.map((name) => ({
  files: [`services/${name}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        paths: FORBIDDEN_EVERYWHERE,
        patterns: SERVICES.filter((other) => other !== name).map((other) => ({
          // Relative paths climbing out of this service into another one (at any depth).
          group: ['../', '../../', '../../../', '../../../../', '../../../../../']
            .map((up) => `${up}${other}/**`)
            .concat([`**/services/${other}/**`]),
          message: `services/${name} must not import services/${other}: call it over gRPC (proto/) or NATS instead.`,
        })),
      },
    ],
  },
}));

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'dist/**',
      'coverage/**',
      '.stack/**',
      'services/shared/src/gen/**',
      '**/*.js',
      '**/*.mjs',
    ],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true, allowNullish: true },
      ],
      'import-x/no-cycle': ['error', { maxDepth: 8 }],
      eqeqeq: ['error', 'smart'],
    },
  },
  {
    // shared code is below the services: it must never depend on one of them.
    files: ['services/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: FORBIDDEN_EVERYWHERE,
          patterns: SERVICES.map((s) => ({
            group: [`**/services/${s}/**`, `../../../${s}/**`, `../../../../${s}/**`],
            message: 'services/shared must not depend on a service.',
          })),
        },
      ],
    },
  },
  ...boundaryRules,
  {
    // Patterns the architecture pass removed (docs/decisions/0016-typed-service-wiring.md); a rule
    // keeps each from coming back.
    files: ['services/**/*.ts'],
    ignores: ['**/*.test.ts', 'services/shared/src/gen/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'TSNonNullExpression > MemberExpression.expression[object.name="ctx"]',
          message:
            'A service context has exactly the dependencies its module declares in `needs`: no `!` is needed.',
        },
        {
          selector: 'TSAsExpression[typeAnnotation.type="TSUnknownKeyword"]',
          message:
            'No `as unknown as`: type the value at its source (a parser, a generic, a narrowing check).',
        },
        {
          selector:
            'BinaryExpression[operator=/^[!=]==$/][left.property.name="userId"][right.type="Literal"][right.bigint="0"]',
          message:
            'Who may call what is decided in one place: requireUser() in services, the method table in the gateway.',
        },
      ],
    },
  },
  {
    // tests may use jest's loose typings
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
);
