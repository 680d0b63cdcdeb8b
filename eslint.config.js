// typescript-eslint's recommended rules on the TypeScript sources; Prettier owns formatting (`npm run lint` runs both).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.engines/', 'bench/results/', 'coverage/', '**/*.js', '**/*.cjs', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      // Graph, LDAP and PowerShell hand back untyped JSON; we validate it at the boundary rather than type every shape.
      '@typescript-eslint/no-explicit-any': 'off',
      // A forest's sync target resolves members through the forest built after it: read before assigned, so `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
);
