import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/**
 * Shared by the renderer build (electron.vite.config.ts points at this file)
 * and by svelte-check, so both compile the components the same way.
 * @type {import('@sveltejs/vite-plugin-svelte').SvelteConfig}
 */
export default {
  preprocess: vitePreprocess(),
  compilerOptions: {
    // The studio is written in runes only (STYLE.md): legacy `export let` /
    // `$:` syntax is a compile error rather than a silent mode switch.
    runes: true,
  },
};
