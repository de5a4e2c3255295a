/**
 * The Node entry: `node --conditions=@rekey/source --import tsx apps/dashboard/src/node-main.ts`
 * (or the built file). Reads the worker configuration and the dashboard settings from the
 * environment and serves the dashboard with @hono/node-server.
 */
import type { IncomingMessage } from 'node:http';

import { serve } from '@hono/node-server';

import { findConfigPath, loadConfigFile } from '@rekey/worker/config';
import { createDashboard } from './app.ts';
import { logLine, settingsFromEnv } from './dashboard-settings.ts';
import { openBackend } from './open-backend.ts';

const settings = settingsFromEnv(process.env);
const config = loadConfigFile(findConfigPath(settings.configPath, process.env));
const backend = await openBackend(config);
const dashboard = createDashboard({
  backend,
  tokens: settings.tokens,
  ...(settings.publicOrigin === undefined ? {} : { publicOrigin: settings.publicOrigin }),
  ...(settings.secureCookies === undefined ? {} : { secureCookies: settings.secureCookies }),
  clientAddress: (c) =>
    (c.env as { incoming?: IncomingMessage }).incoming?.socket.remoteAddress ?? 'unknown',
  log: logLine,
});

const server = serve(
  { fetch: dashboard.app.fetch, hostname: settings.host, port: settings.port },
  (info) => logLine({ level: 'info', event: 'listening', runtime: 'node', port: info.port }),
);

async function shutdown(): Promise<void> {
  dashboard.close();
  server.close();
  await backend.close();
  process.exit(0);
}
process.once('SIGTERM', () => void shutdown());
process.once('SIGINT', () => void shutdown());
