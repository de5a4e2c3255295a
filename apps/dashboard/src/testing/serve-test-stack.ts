/**
 * Serves the dashboard over a test stack on a free local port, for the browser and API tests
 * (and for a look by hand: `tsx --conditions=@rekey/source src/testing/serve-test-stack.ts`).
 */
import type { AddressInfo } from 'node:net';

import { serve } from '@hono/node-server';

import { createDashboard, type Dashboard } from '../app.ts';
import type { LoginLimiter } from '../auth/login-limiter.ts';
import { AccessTokens } from '../auth/tokens.ts';
import { openTestStack, type TestStack, type TestStackOptions } from './test-stack.ts';

/** Tokens of the test dashboards. */
export const TEST_TOKENS = {
  viewer: 'viewer-token-0123456789abcdef',
  operator: 'operator-token-0123456789abcdef',
} as const;

/** A served dashboard. */
export interface ServedDashboard {
  readonly url: string;
  readonly stack: TestStack;
  readonly dashboard: Dashboard;
  close(): Promise<void>;
}

/** Opens a stack and serves a dashboard over it on 127.0.0.1. */
export async function serveTestStack(
  options: TestStackOptions & { heartbeatMs?: number; loginLimiter?: LoginLimiter } = {},
): Promise<ServedDashboard> {
  const stack = await openTestStack(options);
  const dashboard = createDashboard({
    backend: stack.backend,
    tokens: new AccessTokens(TEST_TOKENS),
    hub: { pollMs: 500, overviewMs: 2_000, coalesceMs: 100 },
    heartbeatMs: options.heartbeatMs ?? 5_000,
    clientAddress: (c) =>
      (c.env as { incoming?: { socket: { remoteAddress?: string } } }).incoming?.socket
        .remoteAddress ?? 'unknown',
    ...(options.loginLimiter === undefined ? {} : { loginLimiter: options.loginLimiter }),
  });
  const server = serve({ fetch: dashboard.app.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stack,
    dashboard,
    async close() {
      dashboard.close();
      server.close();
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      await stack.close();
    },
  };
}

// Run by hand: serve until interrupted.
if (import.meta.url === `file://${process.argv[1]}`) {
  const served = await serveTestStack({
    engine: true,
    deks: Number(process.env.DEKS ?? 3000),
    kekNames: ['pii', 'billing'],
    databases: [
      { name: 'orders', kind: 'postgres' },
      { name: 'accounts', kind: 'postgres' },
    ],
    every: '30d',
  });
  console.log(`dashboard at ${served.url} (operator token ${TEST_TOKENS.operator})`);
  process.once('SIGINT', () => void served.close().then(() => process.exit(0)));
  process.once('SIGTERM', () => void served.close().then(() => process.exit(0)));
}
