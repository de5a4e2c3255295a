/**
 * The Deno entry serves the same dashboard as the Node entry: the test writes a worker
 * configuration (real Redis, PostgreSQL control store and DEK table, a local keyring file),
 * starts `apps/dashboard/src/deno-main.ts` under Deno, builds the Node app from the same
 * configuration, and compares pages, API answers, assets, headers and the event stream.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createDashboard, type Dashboard } from '../../apps/dashboard/src/app.ts';
import { AccessTokens } from '../../apps/dashboard/src/auth/tokens.ts';
import type { DashboardBackend } from '../../apps/dashboard/src/dashboard-backend.ts';
import { openBackendFromFile } from '../../apps/dashboard/src/open-backend.ts';
import {
  type ConfigFixture,
  writeConfigFixture,
} from '../../apps/dashboard/src/testing/config-fixture.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
// The binary itself: the `.bin/deno` shim runs it as a child that a signal to the shim orphans.
const DENO = join(root, 'node_modules/deno/deno');
const TSX = join(root, 'node_modules/.bin/tsx');
const TOKENS = {
  viewer: 'deno-viewer-token-0123456789',
  operator: 'deno-operator-token-0123456789',
};

let fixture: ConfigFixture;
let deno: Entry | undefined;
let nodeEntry: Entry | undefined;
let denoUrl = '';
let backend: DashboardBackend;
let node: Dashboard;
let runId = '';

beforeAll(async () => {
  fixture = await writeConfigFixture();
  // The Node side: the same app, built from the same configuration file.
  backend = await openBackendFromFile(fixture.configPath);
  node = createDashboard({ backend, tokens: new AccessTokens(TOKENS) });
  const { run } = await backend.control.startRun({
    kekName: 'pii',
    databases: ['orders'],
    trigger: 'test',
  });
  runId = run.id;

  if (!existsSync(DENO)) return;
  deno = await startEntry(DENO, [
    'run',
    '--allow-all',
    '--conditions=@rekey/source',
    'src/deno-main.ts',
  ]);
  denoUrl = deno.url;
  nodeEntry = await startEntry(TSX, ['--conditions=@rekey/source', 'src/node-main.ts']);
}, 180_000);

/** An entry running as its own process. */
interface Entry {
  readonly child: ChildProcess;
  readonly url: string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts an entry on a free port with the fixture's configuration and waits until it listens. */
async function startEntry(command: string, args: string[]): Promise<Entry> {
  const child = spawn(command, args, {
    cwd: join(root, 'apps/dashboard'),
    env: {
      ...process.env,
      REKEY_CONFIG: fixture.configPath,
      REKEY_DASHBOARD_PORT: '0',
      REKEY_DASHBOARD_VIEWER_TOKEN: TOKENS.viewer,
      REKEY_DASHBOARD_OPERATOR_TOKEN: TOKENS.operator,
      NO_COLOR: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += String(d);
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const url = await new Promise<string>((resolveUrl, reject) => {
    let out = '';
    child.stdout?.on('data', (d) => {
      out += String(d);
      const port = /"event":"listening","runtime":"[a-z]+","port":(\d+)/.exec(out)?.[1];
      if (port !== undefined) resolveUrl(`http://127.0.0.1:${port}`);
    });
    void exited.then((code) =>
      reject(new Error(`${command} exited with ${code}: ${stderr.slice(-2000)}`)),
    );
  });
  return {
    child,
    url,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

afterAll(async () => {
  await deno?.stop();
  await nodeEntry?.stop();
  node?.close();
  await backend?.close();
  await fixture?.close();
});

const viewer = { Authorization: `Bearer ${TOKENS.viewer}` };

async function both(path: string, headers: Record<string, string> = viewer) {
  const fromDeno = await fetch(`${denoUrl}${path}`, { headers });
  const fromNode = await node.app.request(path, { headers });
  return { deno: fromDeno, node: fromNode };
}

/** Drops what moves with the clock (ages, rates, timestamps of the answer itself). */
function steady(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value), (key, v) =>
    ['generatedAt', 'primaryAgeSeconds', 'ratePerSecond', 'etaSeconds', 'throughput'].includes(key)
      ? undefined
      : v,
  );
}

describe.skipIf(!existsSync(DENO))('the Deno entry', () => {
  it('answers /healthz like the Node entry', async () => {
    const r = await both('/healthz', {});
    expect(r.deno.status).toBe(200);
    expect(await r.deno.json()).toEqual(await r.node.json());
  });

  it('serves the same API answers as the Node entry', async () => {
    for (const path of ['/api/overview', '/api/rotations', `/api/rotations/${runId}`]) {
      const r = await both(path);
      expect(r.deno.status, path).toBe(200);
      expect(steady(await r.deno.json()), path).toEqual(steady(await r.node.json()));
    }
    const overview = (await (
      await fetch(`${denoUrl}/api/overview`, { headers: viewer })
    ).json()) as {
      keks: { versions: unknown[] }[];
      inventory: { counts: { count: number }[] }[];
    };
    expect(overview.keks[0]?.versions).toHaveLength(2);
    expect(overview.inventory[0]?.counts.map((c) => c.count)).toEqual(fixture.deksPerVersion);
  });

  it('serves the same pages, assets and security headers as the Node entry', async () => {
    for (const path of [
      '/',
      `/runs/${runId}`,
      '/login',
      '/static/dashboard.js',
      '/static/dashboard.css',
    ]) {
      const r = await both(path);
      expect(r.deno.status, path).toBe(200);
      expect(await r.deno.text(), path).toBe(await r.node.text());
      for (const h of [
        'content-type',
        'content-security-policy',
        'x-frame-options',
        'x-content-type-options',
        'referrer-policy',
      ]) {
        expect(r.deno.headers.get(h), `${path} ${h}`).toBe(r.node.headers.get(h));
      }
    }
  });

  it('applies the same access rules: 401, 403 for a viewer acting, 403 cross-origin', async () => {
    expect((await fetch(`${denoUrl}/api/overview`)).status).toBe(401);
    const act = (headers: Record<string, string>) =>
      fetch(`${denoUrl}/api/rotations/${runId}/pause`, { method: 'POST', headers });
    expect((await act(viewer)).status).toBe(403);
    expect(
      (await act({ Authorization: `Bearer ${TOKENS.operator}`, Origin: 'http://evil.example' }))
        .status,
    ).toBe(403);
  });

  it('signs a browser in with an HttpOnly SameSite=Strict session cookie', async () => {
    const res = await fetch(`${denoUrl}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: denoUrl },
      body: new URLSearchParams({ token: TOKENS.operator, next: '/' }).toString(),
    });
    expect(res.status).toBe(303);
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/rekey_session=[A-Za-z0-9_-]{43}; .*HttpOnly; SameSite=Strict/);
  });

  it('streams a snapshot with an id over server-sent events', async () => {
    const abort = new AbortController();
    const res = await fetch(`${denoUrl}/api/events?run=${runId}`, {
      headers: viewer,
      signal: abort.signal,
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!/event: snapshot[\s\S]*\n\n/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    abort.abort();
    expect(text).toMatch(/\nid: [0-9a-f]{8}\.\d+/);
    const data = /data: (.*)/.exec(text.slice(text.indexOf('event: snapshot')))?.[1] ?? '{}';
    expect((JSON.parse(data) as { id: string }).id).toBe(runId);
  });

  it('serves the same pages and API from the Node entry process', async () => {
    const nodeUrl = nodeEntry?.url ?? '';
    for (const path of ['/', '/login', `/runs/${runId}`, '/static/dashboard.js']) {
      const [a, b] = await Promise.all([
        fetch(`${denoUrl}${path}`, { headers: viewer }),
        fetch(`${nodeUrl}${path}`, { headers: viewer }),
      ]);
      expect(a.status, path).toBe(200);
      expect(await a.text(), path).toBe(await b.text());
    }
    const [a, b] = await Promise.all([
      fetch(`${denoUrl}/api/overview`, { headers: viewer }),
      fetch(`${nodeUrl}/api/overview`, { headers: viewer }),
    ]);
    expect(steady(await a.json())).toEqual(steady(await b.json()));
  });

  it('shares sessions with the Node entry, as replicas on one Redis do', async () => {
    const nodeUrl = nodeEntry?.url ?? '';
    const signedIn = await fetch(`${denoUrl}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: denoUrl },
      body: new URLSearchParams({ token: TOKENS.operator, next: '/' }).toString(),
    });
    const cookie = /rekey_session=([^;]+)/.exec(signedIn.headers.get('set-cookie') ?? '')?.[1];
    const withCookie = { headers: { Cookie: `rekey_session=${cookie}` } };
    const page = await fetch(`${nodeUrl}/`, withCookie);
    expect(page.status).toBe(200);
    const csrf = /name="csrf-token" content="([^"]+)"/.exec(await page.text())?.[1] ?? '';
    const denoPage = await (await fetch(`${denoUrl}/`, withCookie)).text();
    expect(denoPage).toContain(`name="csrf-token" content="${csrf}"`);

    const out = await fetch(`${nodeUrl}/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Cookie: `rekey_session=${cookie}`,
        Origin: nodeUrl,
      },
      body: new URLSearchParams({ _csrf: csrf }).toString(),
    });
    expect(out.status).toBe(303);
    expect((await fetch(`${denoUrl}/api/overview`, withCookie)).status).toBe(401);
  });

  it('shuts both entries down cleanly on SIGTERM', async () => {
    const codes = [await deno?.stop(), await nodeEntry?.stop()];
    expect(codes).toEqual([0, 0]);
  });
});
