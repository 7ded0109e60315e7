import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import svelteConfig from './svelte.config.js';

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'native-models/**', 'tests/fixtures/**', '**/*.tsbuildinfo'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': 'off',
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { projectService: false, extraFileExtensions: ['.svelte'], parser: tseslint.parser, svelteConfig } },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Only the ONNX denoiser touches ONNX Runtime.
    files: ['electron/**/*.ts'],
    ignores: ['electron/engine/**'],
    rules: { 'no-restricted-imports': ['error', { paths: ['onnxruntime-node'] }] },
  },
  {
    // The engine is plain Node: no Electron, Svelte, three.js or DOM.
    files: ['electron/engine/**/*.ts'],
    ignores: ['electron/engine/denoisers/onnx.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: ['onnxruntime-node', 'electron'], patterns: ['svelte', 'svelte/*', 'three'] }] },
  },
  {
    files: ['electron/engine/denoisers/onnx.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: ['electron'], patterns: ['svelte', 'svelte/*', 'three'] }] },
  },
);
