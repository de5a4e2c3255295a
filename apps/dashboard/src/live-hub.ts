/**
 * The live side of the pages: one hub per dashboard process turns the engine's events (and a
 * slow poll of active runs, because events are best effort) into server-sent-event messages per
 * topic: `overview`, or `run:<id>`. Every message carries absolute state, not increments, so a
 * client that resumes with `Last-Event-ID` needs only the messages it missed, or a snapshot.
 */
import { randomBytes } from 'node:crypto';

import type { DashboardBackend, EngineEvent } from './dashboard-backend.ts';
import { loadOverview, type OverviewView } from './overview.ts';
import { loadRunSummary, loadRunView, type RunView } from './run-view.ts';
import { ThroughputTracker } from './throughput.ts';

/** One server-sent event. */
export interface LiveMessage {
  /** `<boot id>.<sequence>`: a restarted hub never honours an old id. */
  readonly id: string;
  readonly event: 'snapshot' | 'run' | 'overview';
  readonly data: unknown;
}

/** A page's stream: `overview`, or `run:<id>`. */
export type Topic = 'overview' | `run:${string}`;

/** Timing of the hub. */
export interface LiveHubOptions {
  /** How often active and watched runs are re-read even without events (default 2 s). */
  readonly pollMs?: number;
  /** How often versions and inventory are re-read while the overview is watched (default 15 s). */
  readonly overviewMs?: number;
  /** How long a burst of events of one run is coalesced (default 250 ms). */
  readonly coalesceMs?: number;
}

/** Messages kept per topic for resuming clients. */
const REPLAY_LIMIT = 200;

interface TopicState {
  readonly listeners: Set<(m: LiveMessage) => void>;
  readonly log: LiveMessage[];
  /** Sequence of the newest message dropped from the log. */
  dropped: number;
}

/** Fans engine progress out to page streams. */
export class LiveHub {
  readonly throughput: ThroughputTracker = new ThroughputTracker();
  readonly #backend: DashboardBackend;
  readonly #bootId = randomBytes(4).toString('hex');
  readonly #topics = new Map<Topic, TopicState>();
  /** The last state sent per key, to send only changes. */
  readonly #lastSent = new Map<string, string>();
  readonly #pending = new Map<string, ReturnType<typeof setTimeout>>();
  readonly #timers: ReturnType<typeof setInterval>[] = [];
  readonly #unsubscribe: () => void;
  readonly #coalesceMs: number;
  #seq = 0;
  #closed = false;

  constructor(backend: DashboardBackend, options: LiveHubOptions = {}) {
    this.#backend = backend;
    this.#coalesceMs = options.coalesceMs ?? 250;
    this.#unsubscribe = backend.events.subscribe((e) => this.#onEngineEvent(e));
    this.#timers.push(setInterval(() => void this.#poll(), options.pollMs ?? 2_000));
    this.#timers.push(
      setInterval(() => void this.#refreshOverview(), options.overviewMs ?? 15_000),
    );
  }

  /** The snapshot of a topic, or `undefined` for an unknown run. */
  async snapshot(topic: Topic): Promise<OverviewView | RunView | undefined> {
    if (topic === 'overview') return loadOverview(this.#backend, this.throughput);
    return loadRunView(this.#backend, this.throughput, topic.slice(4));
  }

  /** The id a snapshot taken now is sent with: a client resumes after it. */
  currentId(): string {
    return `${this.#bootId}.${this.#seq}`;
  }

  /**
   * The messages of a topic after `lastEventId`, or `undefined` when they are not all kept (a
   * restarted hub, an id from long ago): the client then gets a fresh snapshot.
   */
  missedSince(topic: Topic, lastEventId: string): LiveMessage[] | undefined {
    const [boot, seqText] = lastEventId.split('.');
    const seq = Number(seqText);
    if (boot !== this.#bootId || !Number.isInteger(seq) || seq < 0 || seq > this.#seq) {
      return undefined;
    }
    const state = this.#topics.get(topic);
    if (state === undefined) return [];
    if (state.dropped > seq) return undefined;
    return state.log.filter((m) => sequenceOf(m.id) > seq);
  }

  /** Delivers the topic's messages to `listener` until the returned function is called. */
  subscribe(topic: Topic, listener: (m: LiveMessage) => void): () => void {
    const state = this.#topic(topic);
    state.listeners.add(listener);
    return () => {
      state.listeners.delete(listener);
    };
  }

  /** Re-reads a run and the overview now and tells their watchers (after an action). */
  async poke(runId: string): Promise<void> {
    await this.#refreshRun(runId);
    await this.#refreshOverview();
  }

  close(): void {
    this.#closed = true;
    this.#unsubscribe();
    for (const t of this.#timers) clearInterval(t);
    for (const t of this.#pending.values()) clearTimeout(t);
    for (const state of this.#topics.values()) state.listeners.clear();
  }

  #topic(topic: Topic): TopicState {
    let state = this.#topics.get(topic);
    if (state === undefined) {
      state = { listeners: new Set(), log: [], dropped: 0 };
      this.#topics.set(topic, state);
    }
    return state;
  }

  #watched(topic: Topic): boolean {
    return (this.#topics.get(topic)?.listeners.size ?? 0) > 0;
  }

  /** Sends `data` on `topic` unless `key`'s comparable state is what was sent last. */
  #send(
    topic: Topic,
    event: LiveMessage['event'],
    data: unknown,
    key: string,
    same: unknown,
  ): void {
    if (this.#closed) return;
    const json = JSON.stringify(same);
    if (this.#lastSent.get(key) === json) return;
    this.#lastSent.set(key, json);
    const state = this.#topic(topic);
    const message: LiveMessage = { id: `${this.#bootId}.${++this.#seq}`, event, data };
    state.log.push(message);
    if (state.log.length > REPLAY_LIMIT) {
      state.dropped = sequenceOf((state.log.shift() as LiveMessage).id);
    }
    for (const listener of state.listeners) listener(message);
  }

  #onEngineEvent(event: EngineEvent): void {
    if (this.#pending.has(event.runId)) return;
    const timer = setTimeout(() => {
      this.#pending.delete(event.runId);
      void this.#refreshRun(event.runId).then(() =>
        // A phase change may move versions and inventory.
        event.type === 'phase' ? this.#refreshOverview() : undefined,
      );
    }, this.#coalesceMs);
    this.#pending.set(event.runId, timer);
  }

  async #refreshRun(runId: string): Promise<void> {
    try {
      const run = await this.#backend.control.getRun(runId);
      if (run === undefined) return;
      const topic: Topic = `run:${runId}`;
      if (this.#watched(topic)) {
        const view = await loadRunView(this.#backend, this.throughput, runId);
        if (view !== undefined) {
          // Rate and ETA move on every read; send when counts, phase, errors or audit change.
          const { ratePerSecond: _r, etaSeconds: _e, throughput: _t, ...same } = view;
          this.#send(topic, 'run', view, topic, same);
        }
      }
      const summary = await loadRunSummary(this.#backend, this.throughput, run);
      const { ratePerSecond: _r, etaSeconds: _e, ...same } = summary;
      this.#send('overview', 'run', summary, `overview:${topic}`, same);
    } catch {
      // The control store is away: the next poll tries again.
    }
  }

  async #poll(): Promise<void> {
    try {
      const active = await this.#backend.control.listRuns({ activeOnly: true, limit: 100 });
      const watched = [...this.#topics.keys()]
        .filter((t) => t.startsWith('run:') && this.#watched(t))
        .map((t) => t.slice(4));
      const ids = new Set([...active.map((r) => r.id), ...watched]);
      for (const id of ids) await this.#refreshRun(id);
    } catch {
      // Try again on the next tick.
    }
  }

  async #refreshOverview(): Promise<void> {
    if (!this.#watched('overview')) return;
    try {
      const view = await loadOverview(this.#backend, this.throughput);
      const { generatedAt: _g, activeRuns, recentRuns, ...same } = view;
      const runs = [...activeRuns, ...recentRuns].map((r) => [r.id, r.phase, r.totals]);
      this.#send('overview', 'overview', view, 'overview', { ...same, runs });
    } catch {
      // Try again on the next tick.
    }
  }
}

function sequenceOf(id: string): number {
  return Number(id.split('.')[1]);
}
