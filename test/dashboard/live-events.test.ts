/**
 * The live event stream during a real rotation: the worker engine runs in this process on real
 * Redis (a prefix of its own) and PostgreSQL (control store and DEK tables of their own, a few
 * thousand DEKs), the run is started through the dashboard's API, and the test reads
 * `/api/events` over HTTP as a browser would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  type ServedDashboard,
  serveTestStack,
  TEST_TOKENS,
} from '../../apps/dashboard/src/testing/serve-test-stack.ts';

const DEKS_PER_DATABASE = 2_000;

/** One parsed server-sent event, or a comment line. */
interface SseEvent {
  readonly id?: string;
  readonly event: string;
  readonly data: unknown;
}

/** Reads an event stream until `stop` says so; returns what it read. */
async function readEvents(
  url: string,
  headers: Record<string, string>,
  stop: (events: SseEvent[]) => boolean,
  limitMs = 60_000,
): Promise<SseEvent[]> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), limitMs);
  const events: SseEvent[] = [];
  try {
    const res = await fetch(url, { headers, signal: abort.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut = buffer.indexOf('\n\n');
      while (cut >= 0) {
        const frame = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        cut = buffer.indexOf('\n\n');
        const parsed = parseFrame(frame);
        if (parsed === undefined) continue;
        events.push(parsed);
        if (stop(events)) {
          abort.abort();
          return events;
        }
      }
    }
  } catch (error) {
    if (!abort.signal.aborted) throw error;
  } finally {
    clearTimeout(timer);
  }
  return events;
}

function parseFrame(frame: string): SseEvent | undefined {
  const lines = frame.split('\n');
  if (lines.every((l) => l.startsWith(':'))) return { event: 'comment', data: lines.join('\n') };
  let id: string | undefined;
  let event = 'message';
  const data: string[] = [];
  for (const line of lines) {
    if (line.startsWith('id:')) id = line.slice(3).trim();
    else if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
  }
  if (data.length === 0) return undefined;
  return { ...(id === undefined ? {} : { id }), event, data: JSON.parse(data.join('\n')) };
}

interface RunData {
  id: string;
  phase: string;
  targetRef: string | null;
  totals: { planned: number; done: number; percent: number };
  databases: { database: string; done: number }[];
}

let served: ServedDashboard;
const auth = { Authorization: `Bearer ${TEST_TOKENS.viewer}` };

beforeAll(async () => {
  served = await serveTestStack({
    control: 'postgres',
    databases: [
      { name: 'orders', kind: 'postgres' },
      { name: 'accounts', kind: 'postgres' },
    ],
    deks: DEKS_PER_DATABASE,
    engine: true,
    // Two provider requests per DEK: about 500 DEKs a second, so the run lasts several pages
    // of 1,000 DEKs and the stream has states between the start and the end to show.
    requestsPerSecond: 1_000,
    // One range of 1,000 DEKs at a time per database: counts grow page by page.
    concurrency: 1,
    heartbeatMs: 300,
  });
}, 120_000);

afterAll(async () => {
  await served?.close();
});

describe('the live event stream during a real rotation', () => {
  let runId = '';
  let runEvents: SseEvent[] = [];
  let overviewEvents: SseEvent[] = [];

  it('delivers a snapshot, then progress deltas with ids, until the run completes', async () => {
    // Watch the overview from before the start, so its stream sees the run appear.
    const overview = readEvents(`${served.url}/api/events`, auth, (events) =>
      events.some(
        (e) =>
          e.event === 'overview' &&
          (e.data as { recentRuns: { phase: string }[] }).recentRuns.some(
            (r) => r.phase === 'completed',
          ),
      ),
    );
    const started = await fetch(`${served.url}/api/rotations`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${TEST_TOKENS.operator}`,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({ kekName: 'pii' }),
    });
    expect(started.status).toBe(202);
    runId = ((await started.json()) as { run: { id: string } }).run.id;

    // Hold the run until its stream is connected: on a loaded machine the whole run could
    // otherwise finish before the stream's first snapshot, leaving no part-way state to see.
    const act = (action: 'pause' | 'resume') =>
      fetch(`${served.url}/api/rotations/${runId}/${action}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${TEST_TOKENS.operator}` },
      });
    expect((await act('pause')).status).toBe(200);
    let resumed: Promise<Response> | undefined;
    runEvents = await readEvents(`${served.url}/api/events?run=${runId}`, auth, (events) => {
      resumed ??= act('resume');
      return events.some((e) => e.event === 'run' && (e.data as RunData).phase === 'completed');
    });
    expect((await resumed)?.status).toBe(200);
    overviewEvents = await overview;

    const [first, ...rest] = runEvents;
    expect(first?.event).toBe('snapshot');
    expect(first?.id).toMatch(/^[0-9a-f]{8}\.\d+$/);
    const deltas = rest.filter((e) => e.event === 'run');
    expect(deltas.length).toBeGreaterThan(1);

    // Ids grow, counts never go back, and some delta shows the run part-way.
    const seqs = deltas.map((e) => Number(e.id?.split('.')[1]));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const done = deltas.map((e) => (e.data as RunData).totals.done);
    expect(done).toEqual([...done].sort((a, b) => a - b));
    const total = 2 * DEKS_PER_DATABASE;
    const trace = JSON.stringify(done);
    expect(
      done.some((d) => d > 0 && d < total),
      trace,
    ).toBe(true);

    const last = deltas.at(-1)?.data as RunData;
    expect(last.phase).toBe('completed');
    expect(last.totals).toMatchObject({ done: total, percent: 100 });
    expect(last.databases.map((d) => d.done)).toEqual([DEKS_PER_DATABASE, DEKS_PER_DATABASE]);
  }, 120_000);

  it('shows the run on the overview stream and the inventory on the new version', async () => {
    const summaries = overviewEvents.filter((e) => e.event === 'run');
    expect(summaries.some((e) => (e.data as RunData).id === runId)).toBe(true);
    const final = overviewEvents.at(-1)?.data as {
      inventory: { database: string; counts: { kekRef: string; count: number }[] }[];
      recentRuns: RunData[];
    };
    const target = final.recentRuns.find((r) => r.id === runId)?.targetRef;
    expect(target).toMatch(/^memory:pii\//);
    for (const inv of final.inventory) {
      expect(inv.counts).toEqual([{ kekName: 'pii', kekRef: target, count: DEKS_PER_DATABASE }]);
    }
  });

  it('sends heartbeats while nothing changes', async () => {
    const events = await readEvents(
      `${served.url}/api/events?run=${runId}`,
      auth,
      (e) => e.filter((x) => x.event === 'comment').length >= 2,
      20_000,
    );
    expect(events[0]?.event).toBe('snapshot');
    expect(events.filter((e) => e.event === 'comment').length).toBeGreaterThanOrEqual(2);
  });

  it('resumes after Last-Event-ID with only the missed messages, and snapshots unknown ids', async () => {
    const deltas = runEvents.filter((e) => e.event === 'run');
    const middle = deltas[Math.floor(deltas.length / 2) - 1] ?? deltas[0];
    const missed = deltas.filter(
      (e) => Number(e.id?.split('.')[1]) > Number(middle?.id?.split('.')[1]),
    );
    const resumed = await readEvents(
      `${served.url}/api/events?run=${runId}`,
      { ...auth, 'Last-Event-ID': middle?.id ?? '' },
      (e) => e.filter((x) => x.event === 'run').length >= missed.length,
      20_000,
    );
    const replay = resumed.filter((e) => e.event !== 'comment');
    expect(replay.map((e) => e.event)).not.toContain('snapshot');
    expect(replay.map((e) => e.id)).toEqual(missed.map((e) => e.id));

    const stale = await readEvents(
      `${served.url}/api/events?run=${runId}`,
      { ...auth, 'Last-Event-ID': 'ffffffff.3' },
      (e) => e.length >= 1,
      20_000,
    );
    expect(stale[0]?.event).toBe('snapshot');
    expect((stale[0]?.data as RunData | undefined)?.phase).toBe('completed');
  });

  it('answers an unknown run with a closing `gone` event', async () => {
    const events = await readEvents(
      `${served.url}/api/events?run=00000000-0000-4000-8000-000000000000`,
      auth,
      () => false,
      20_000,
    );
    expect(events.map((e) => e.event)).toEqual(['gone']);
  });
});
