/**
 * The Deno entry: `deno run --allow-all apps/dashboard/src/deno-main.ts`. The same app as the
 * Node entry, served with `Deno.serve`.
 */
import process from 'node:process';

import { findConfigPath, loadConfigFile } from '@rekey/worker/config';
import { createDashboard } from './app.ts';
import { logLine, settingsFromEnv } from './dashboard-settings.ts';
import { openBackend } from './open-backend.ts';

/** The part of the Deno namespace this entry uses. */
declare const Deno: {
  serve(
    options: { hostname: string; port: number; onListen?: (addr: { port: number }) => void },
    handler: (
      request: Request,
      info: { remoteAddr: { hostname: string } },
    ) => Response | Promise<Response>,
  ): { shutdown(): Promise<void> };
  addSignalListener(signal: 'SIGTERM' | 'SIGINT', handler: () => void): void;
  exit(code: number): never;
};

const settings = settingsFromEnv(process.env);
const config = loadConfigFile(findConfigPath(settings.configPath, process.env));
const backend = await openBackend(config);
const dashboard = createDashboard({
  backend,
  tokens: settings.tokens,
  ...(settings.publicOrigin === undefined ? {} : { publicOrigin: settings.publicOrigin }),
  ...(settings.secureCookies === undefined ? {} : { secureCookies: settings.secureCookies }),
  clientAddress: (c) =>
    (c.env as { remoteAddr?: { hostname: string } }).remoteAddr?.hostname ?? 'unknown',
  log: logLine,
});

const server = Deno.serve(
  {
    hostname: settings.host,
    port: settings.port,
    onListen: ({ port }) => logLine({ level: 'info', event: 'listening', runtime: 'deno', port }),
  },
  (request, info) => dashboard.app.fetch(request, { remoteAddr: info.remoteAddr }),
);

async function shutdown(): Promise<void> {
  dashboard.close();
  await server.shutdown();
  await backend.close();
  Deno.exit(0);
}
Deno.addSignalListener('SIGTERM', () => void shutdown());
Deno.addSignalListener('SIGINT', () => void shutdown());
