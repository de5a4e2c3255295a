/**
 * Serves the dashboard over a test stack on a free local port, for the browser and API tests
 * (and for a look by hand: `tsx --conditions=@rekey/source src/testing/serve-test-stack.ts`).
 */
import type { AddressInfo } from 'node:net';

import { serve } from '@hono/node-server';

import { createDashboard, type Dashboard } from '../app.ts';
import { AccessTokens } from '../auth/tokens.ts';
import type { DashboardBackend } from '../dashboard-backend.ts';
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

/** What a served test dashboard is built with, besides its stack. */
export interface ServeOptions {
  readonly heartbeatMs?: number;
}

/** Opens a stack and serves a dashboard over it on 127.0.0.1. */
export async function serveTestStack(
  options: TestStackOptions & ServeOptions = {},
): Promise<ServedDashboard> {
  const stack = await openTestStack(options);
  const served = await serveDashboard(stack.backend, options);
  return {
    ...served,
    stack,
    async close() {
      await served.close();
      await stack.close();
    },
  };
}

/** Several dashboards sharing one stack, as replicas behind a load balancer. */
export interface ServedReplicas {
  readonly urls: readonly string[];
  readonly stack: TestStack;
  close(): Promise<void>;
}

/**
 * Opens one stack and serves `count` dashboards over it, each on a backend of its own (its own
 * Redis connections and control store connection, the same prefix), like replicas of one
 * deployment.
 */
export async function serveReplicas(
  count: number,
  options: TestStackOptions & ServeOptions = {},
): Promise<ServedReplicas> {
  const stack = await openTestStack(options);
  const served: Served[] = [];
  try {
    for (let i = 0; i < count; i++) {
      served.push(await serveDashboard(await stack.replica(), options));
    }
  } catch (error) {
    for (const s of served) await s.close();
    await stack.close();
    throw error;
  }
  return {
    urls: served.map((s) => s.url),
    stack,
    async close() {
      for (const s of served) await s.close();
      await stack.close();
    },
  };
}

interface Served {
  readonly url: string;
  readonly dashboard: Dashboard;
  close(): Promise<void>;
}

async function serveDashboard(backend: DashboardBackend, options: ServeOptions): Promise<Served> {
  const dashboard = createDashboard({
    backend,
    tokens: new AccessTokens(TEST_TOKENS),
    hub: { pollMs: 500, overviewMs: 2_000, coalesceMs: 100 },
    heartbeatMs: options.heartbeatMs ?? 5_000,
    clientAddress: (c) =>
      (c.env as { incoming?: { socket: { remoteAddress?: string } } }).incoming?.socket
        .remoteAddress ?? 'unknown',
  });
  const server = serve({ fetch: dashboard.app.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    dashboard,
    async close() {
      dashboard.close();
      server.close();
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
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
