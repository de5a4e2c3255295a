/**
 * Raw job inspection: bull-board over the engine's queues, read-only, mounted under the same
 * authentication as the rest of the dashboard. Read-only twice over: every queue adapter is in
 * bull-board's read-only mode, and the dashboard refuses every non-GET request under the mount.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import type { Hono } from 'hono';

import type { EngineQueueAccess } from './dashboard-backend.ts';
import { fileServer } from './static-assets.ts';

/** Where bull-board is mounted. */
export const QUEUE_BOARD_PATH = '/queues';

/** The bull-board sub-app over the engine's queues. */
export function queueBoard(queues: EngineQueueAccess): Hono {
  const require = createRequire(import.meta.url);
  // Resolve the UI package next to the adapter (bull-board would eval `require.resolve`).
  const fromAdapter = createRequire(require.resolve('@bull-board/hono'));
  const uiBasePath = dirname(fromAdapter.resolve('@bull-board/ui/package.json'));

  const adapter = new HonoAdapter(fileServer as never);
  adapter.setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({
    queues: queues.all().map((q) => new BullMQAdapter(q, { readOnlyMode: true })),
    serverAdapter: adapter,
    options: { uiBasePath, uiConfig: { boardTitle: 'rekey queues' } },
  });
  return adapter.registerPlugin() as unknown as Hono;
}
