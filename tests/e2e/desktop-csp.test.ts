/**
 * The studio under the desktop app's content security policy, in a real
 * Chromium. A small server here serves the built renderer as app:// does —
 * every response with the desktop policy (desktopCsp, with this server's
 * http origin in place of app://painter), index.html without browser mode's
 * <meta> policy — and passes the page's WebSocket to `painter serve`'s
 * engine. The studio is then used — a network run, a brush, the 3-D view, a
 * theory chart — and not one CSP violation may be reported. (Only the
 * transport differs from Electron: here the page reaches the engine over its
 * same-origin WebSocket, which connect-src 'self' allows; in Electron, IPC.)
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desktopCsp, withoutMetaCsp } from '../../electron/shell/csp';
import { Studio } from './studio-page';

const RENDERER = join(__dirname, '..', '..', 'out', 'renderer');
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

let studio: Studio;
let violations: string[];
let desktop: Server;

/** The renderer as app:// serves it, and the engine's WebSocket passed through to `painter serve` (Host and Origin rewritten to its own). */
async function desktopLikeServer(enginePort: number): Promise<{ server: Server; origin: string }> {
  let origin = '';
  const server = createServer((request, response) => {
    const path = normalize(new URL(request.url ?? '/', origin).pathname === '/' ? '/index.html' : new URL(request.url ?? '/', origin).pathname);
    let body: Buffer | string;
    try {
      body = readFileSync(join(RENDERER, path));
    } catch {
      response.writeHead(404, { 'Content-Security-Policy': desktopCsp(origin) }).end('Not found');
      return;
    }
    const type = TYPES[extname(path)] ?? 'application/octet-stream';
    if (type.startsWith('text/html')) body = withoutMetaCsp(body.toString('utf-8'));
    response.writeHead(200, { 'Content-Type': type, 'Content-Security-Policy': desktopCsp(origin), 'X-Content-Type-Options': 'nosniff' }).end(body);
  });
  server.on('upgrade', (request, socket, head) => {
    const upstream = connect(enginePort, '127.0.0.1', () => {
      const lines = [`${request.method} ${request.url} HTTP/1.1`];
      for (let i = 0; i < request.rawHeaders.length; i += 2) {
        const name = request.rawHeaders[i]!;
        const value = /^host$/i.test(name) ? `127.0.0.1:${enginePort}` : /^origin$/i.test(name) ? `http://127.0.0.1:${enginePort}` : request.rawHeaders[i + 1]!;
        lines.push(`${name}: ${value}`);
      }
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      upstream.write(head);
      socket.pipe(upstream).pipe(socket);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, origin };
}

beforeAll(async () => {
  studio = await Studio.open();
  const page = studio.page;
  const engine = new URL(studio.server.url);
  const { server, origin } = await desktopLikeServer(Number(engine.port));
  desktop = server;
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __cspViolations: string[] }).__cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (event) => seen.push(`${event.effectiveDirective} blocked ${event.blockedURI || 'inline'} (${event.sourceFile}:${event.lineNumber})`));
  });
  violations = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  await page.goto(`${origin}/?token=${engine.searchParams.get('token')}`);
});

afterAll(async () => {
  await studio?.close();
  desktop?.close();
});

async function reported(): Promise<string[]> {
  const inPage = await studio.page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations);
  return [...inPage, ...violations];
}

describe('the studio under the desktop CSP (real Chromium)', () => {
  it('loads with the header policy in force and no <meta> policy', async () => {
    const page = studio.page;
    await studio.modelItems().first().waitFor({ timeout: 30_000 });
    expect(await page.locator('meta[http-equiv="Content-Security-Policy"]').count()).toBe(0);
    // The policy is really enforced: an inline script is refused (and reported).
    const inline = await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.__inlineRan = true;';
      document.head.append(script);
      return (window as unknown as { __inlineRan?: boolean }).__inlineRan === true;
    });
    expect(inline).toBe(false);
    await expect.poll(async () => (await reported()).some((line) => line.startsWith('script-src'))).toBe(true);
    // …and so is an inline style attribute (what a component setting style="…" would hit).
    await page.evaluate(() => document.body.setAttribute('style', 'outline: 1px solid red'));
    await expect.poll(async () => (await reported()).some((line) => line.startsWith('style-src'))).toBe(true);
    await page.evaluate(() => document.body.removeAttribute('style'));
    violations.length = 0;
    await page.evaluate(() => ((window as unknown as { __cspViolations: string[] }).__cspViolations.length = 0));
  });

  it('runs the network, paints a branch, draws the 3-D view and a chart, with no violation', async () => {
    const page = studio.page;
    await studio.selectModel('fashion-mnist');
    await studio.setField('#steps', '12');
    await studio.generate();
    expect((await studio.canvasStats('x0-canvas')).spread).toBeGreaterThan(10);
    const rows = await studio.treeRows().count();
    await studio.showStep(3);
    await studio.paint('xt-canvas', [0.4, 0.45], [0.6, 0.55]);
    await expect.poll(() => studio.treeRows().count(), { timeout: 60_000 }).toBe(rows + 1);

    await page.getByTestId('tab-theory').click();
    await page.locator('select[aria-label="Number of trajectories"]').selectOption('4');
    await page.getByTestId('compute-trajectories').click();
    await page.getByTestId('trajectory-canvas').waitFor({ timeout: 120_000 });
    await studio.waitForJob();
    expect((await studio.webglCanvasStats('trajectory-canvas')).distinctColours).toBeGreaterThan(20);
    await expect.poll(() => page.getByTestId('decided-chart').locator('svg path').count()).toBeGreaterThan(0);
    await page.getByTestId('tab-studio').click();

    expect(await reported()).toEqual([]);
  });

  it('the variation grid, a theory chart, the settings and a dialog, with no violation', async () => {
    const page = studio.page;
    await studio.selectModel('fashion-mnist-gaussian');
    await studio.setField('#steps', '20');
    await studio.generate();
    await studio.showStep(10);
    await page.getByTestId('tab-variations').click();
    await page.locator('#variation-directions').selectOption('2');
    await page.getByTestId('find-variations').click();
    await page.getByTestId('variation-grid').waitFor({ timeout: 120_000 });
    await studio.waitForJob();
    expect((await studio.canvasStats('variation-0-0')).spread).toBeGreaterThan(10);

    await page.getByTestId('tab-theory').click();
    await page.getByTestId('chart-emergence').click();
    await page.locator('select[aria-label="Seeds to average over"]').selectOption('2');
    await page.getByTestId('run-analysis').click();
    await studio.waitForJob(120_000);
    await expect.poll(() => page.getByTestId('emergence-chart').locator('svg path').count(), { timeout: 60_000 }).toBeGreaterThan(0);
    await page.getByTestId('emergence-chart').hover();
    await page.getByTestId('tab-studio').click();

    await page.getByTestId('settings').locator('summary').click();
    await page.getByTestId('export').click();
    await page.getByRole('dialog').first().waitFor();
    await page.keyboard.press('Escape');

    expect(await reported()).toEqual([]);
  });
});
