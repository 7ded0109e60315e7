/**
 * app:// — scheme privileges, path resolution (no way out of the renderer
 * folder), and the responses: built files with their types and the desktop
 * CSP, index.html without browser mode's <meta> policy. Reads the real
 * out/renderer (run `npm run build` first).
 */
import { existsSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

const electron = vi.hoisted(() => ({ protocol: { registerSchemesAsPrivileged: vi.fn() } }));
vi.mock('electron', () => ({ protocol: electron.protocol }));

const { APP_ORIGIN, appResponse, registerAppScheme, resolveAppPath, serveApp, STUDIO_URL } = await import('../../electron/shell/protocol');
const { DESKTOP_CSP, withoutMetaCsp } = await import('../../electron/shell/csp');

const RENDERER = join(__dirname, '..', '..', 'out', 'renderer');

describe('the app:// scheme', () => {
  it('is registered standard and secure with fetch support, and never bypasses the CSP', () => {
    registerAppScheme();
    const [schemes] = electron.protocol.registerSchemesAsPrivileged.mock.calls[0]! as [Array<{ scheme: string; privileges: Record<string, boolean> }>];
    expect(schemes).toHaveLength(1);
    expect(schemes[0]!.scheme).toBe('app');
    expect(schemes[0]!.privileges).toMatchObject({ standard: true, secure: true, supportFetchAPI: true });
    expect(schemes[0]!.privileges['bypassCSP']).toBeUndefined();
    expect(schemes[0]!.privileges['allowServiceWorkers']).toBeUndefined();
    expect(STUDIO_URL).toBe(`${APP_ORIGIN}/index.html`);
  });

  it('maps URLs inside the renderer folder, never outside it, and nothing for another host or scheme', () => {
    const root = '/srv/renderer';
    expect(resolveAppPath('app://painter/index.html', root)).toBe('/srv/renderer/index.html');
    expect(resolveAppPath('app://painter/', root)).toBe('/srv/renderer/index.html');
    expect(resolveAppPath('app://painter/assets/index-1.js?v=2#x', root)).toBe('/srv/renderer/assets/index-1.js');
    expect(resolveAppPath('app://painter/assets/a%20b.css', root)).toBe('/srv/renderer/assets/a b.css');
    // Dot segments, plain or encoded, are resolved within the folder: they can never climb out of it.
    for (const url of ['app://painter/../secret.txt', 'app://painter/%2e%2e/secret.txt', 'app://painter/assets/%2e%2e%2f%2e%2e%2f%2e%2e%2fsecret.txt', 'app://painter/..']) {
      const path = resolveAppPath(url, root);
      expect(path === null || path.startsWith(`${root}/`), `${url} → ${path}`).toBe(true);
    }
    for (const url of ['app://painter/%5c..%5csecret.txt', 'app://painter/a%00.js', 'app://painter/%E0%A4%A', 'app://other/index.html', 'file:///srv/renderer/index.html', 'http://painter/index.html']) {
      expect(resolveAppPath(url, root), url).toBeNull();
    }
  });

  it('answers 404 outside the folder, for another host, and for missing files, with the CSP on every response', async () => {
    const root = mkdtempSync(join(tmpdir(), 'painter-app-'));
    mkdirSync(join(root, 'inner'));
    writeFileSync(join(root, 'inner', 'ok.js'), 'export {};');
    writeFileSync(join(root, 'secret.txt'), 'secret');
    const inner = join(root, 'inner');
    const ok = await appResponse('app://painter/ok.js', inner);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    for (const url of ['app://painter/../secret.txt', 'app://painter/missing.js', 'app://elsewhere/ok.js']) {
      const response = await appResponse(url, inner);
      expect(response.status, url).toBe(404);
      expect(await response.text()).toBe('Not found');
      expect(response.headers.get('content-security-policy')).toBe(DESKTOP_CSP);
    }
  });

  it.runIf(existsSync(join(RENDERER, 'index.html')))('serves the built studio: index.html with the desktop CSP header and no <meta> policy, assets with their types', async () => {
    const page = await appResponse(STUDIO_URL, RENDERER);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(DESKTOP_CSP);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await page.text();
    expect(html).not.toMatch(/http-equiv/i);
    const script = /<script type="module" crossorigin src="\.\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await appResponse(`${APP_ORIGIN}/${script}`, RENDERER);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });

  it('is served per session through protocol.handle', async () => {
    const handle = vi.fn();
    serveApp({ protocol: { handle } } as never, RENDERER);
    expect(handle).toHaveBeenCalledWith('app', expect.any(Function));
    const handler = handle.mock.calls[0]![1] as (request: { url: string }) => Promise<Response>;
    expect((await handler({ url: 'app://painter/../../etc/passwd' })).status).toBe(404);
  });
});

describe('the desktop CSP', () => {
  const directives = new Map(DESKTOP_CSP.split(';').map((part) => part.trim().split(/\s+/)).map(([name, ...values]) => [name!, values]));

  it('denies by default and allows only the studio itself: scripts from its bundle folder only, no eval, no inline script, no network, no ws://', () => {
    expect(directives.get('default-src')).toEqual(["'none'"]);
    expect(directives.get('script-src')).toEqual(['app://painter/assets/']);
    expect(directives.get('connect-src')).toEqual(["'self'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(directives.get('base-uri')).toEqual(["'none'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(directives.get('form-action')).toEqual(["'none'"]);
    expect(DESKTOP_CSP).not.toMatch(/unsafe-eval|ws:|wss:|http:|https:|\*/);
    expect(directives.get('script-src')!.join(' ')).not.toMatch(/unsafe-inline|'self'/);
    expect(directives.get('style-src')).toEqual(["'self'"]);
    expect(DESKTOP_CSP).not.toMatch(/unsafe-inline/);
  });

  it('differs from browser mode, whose <meta> policy keeps ws://127.0.0.1:* and is stripped here', () => {
    const meta = '<meta\n      http-equiv="Content-Security-Policy"\n      content="default-src \'self\'; connect-src \'self\' ws://127.0.0.1:*"\n    />\n    <title>x</title>';
    expect(withoutMetaCsp(meta)).toBe('<title>x</title>');
  });
});
