/**
 * The files the pages load: the dashboard's own script and style sheet, Chart.js and the Inter
 * font from node_modules. All are served from this origin (the CSP allows nothing else) and read
 * once at start-up, so serving them touches no disk.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Context } from 'hono';

/** One file served under `/static/`. */
interface Asset {
  readonly body: Uint8Array;
  readonly type: string;
  readonly etag: string;
}

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

function sources(): Record<string, [path: string, type: string]> {
  const own = join(here, '..', 'static');
  const chart = dirname(require.resolve('chart.js'));
  const font = join(dirname(require.resolve('@fontsource/inter/package.json')), 'files');
  const js = 'text/javascript; charset=utf-8';
  const fonts: Record<string, [string, string]> = {};
  for (const weight of [400, 500, 600, 700]) {
    const file = `inter-latin-${weight}-normal.woff2`;
    fonts[file] = [join(font, file), 'font/woff2'];
  }
  return {
    'dashboard.css': [join(own, 'dashboard.css'), 'text/css; charset=utf-8'],
    'dashboard.js': [join(own, 'dashboard.js'), js],
    'chart.umd.min.js': [join(chart, 'chart.umd.min.js'), js],
    ...fonts,
  };
}

/** Loads every asset; a missing one is a broken install and fails start-up. */
export function loadAssets(): ReadonlyMap<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const [name, [path, type]] of Object.entries(sources())) {
    const body = new Uint8Array(readFileSync(path));
    let hash = 2166136261;
    for (const byte of body) hash = Math.imul(hash ^ byte, 16777619) >>> 0;
    assets.set(name, { body, type, etag: `"${hash.toString(16)}-${body.length}"` });
  }
  return assets;
}

/** Answers `GET /static/:name` from the loaded assets. */
export function serveAsset(assets: ReadonlyMap<string, Asset>, c: Context): Response {
  const asset = assets.get(c.req.param('name') ?? '');
  if (asset === undefined) return c.text('not found', 404);
  const headers = {
    'Content-Type': asset.type,
    ETag: asset.etag,
    'Cache-Control': 'public, max-age=300',
  };
  if (c.req.header('if-none-match') === asset.etag) return c.body(null, 304, headers);
  return c.body(asset.body as Uint8Array<ArrayBuffer>, 200, headers);
}

/** A `serveStatic` for bull-board's UI files, reading from the absolute `root` it is given. */
export function fileServer(options: {
  root: string;
  rewriteRequestPath?: (path: string) => string;
}) {
  const root = options.root;
  const types: Record<string, string> = {
    js: 'text/javascript; charset=utf-8',
    css: 'text/css; charset=utf-8',
    svg: 'image/svg+xml',
    png: 'image/png',
    ico: 'image/x-icon',
    json: 'application/json',
    woff2: 'font/woff2',
    map: 'application/json',
  };
  return async (c: Context, next: () => Promise<void>): Promise<Response | undefined> => {
    const rel = (options.rewriteRequestPath?.(c.req.path) ?? c.req.path).replace(/^\/+/, '');
    if (rel.split('/').some((part) => part === '..' || part === '')) {
      await next();
      return undefined;
    }
    try {
      const body = new Uint8Array(readFileSync(join(root, rel)));
      const type = types[rel.split('.').pop() ?? ''] ?? 'application/octet-stream';
      return c.body(body as Uint8Array<ArrayBuffer>, 200, {
        'Content-Type': type,
        'Cache-Control': 'public, max-age=300',
      });
    } catch {
      await next();
      return undefined;
    }
  };
}
