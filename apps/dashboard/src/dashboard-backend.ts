/**
 * What the dashboard reads and drives: the control store, the KEK providers and DEK stores of the
 * worker configuration, the engine's queues and its live progress events. The Node and Deno
 * entries build one from the worker configuration (`openBackend`); tests build one from real
 * servers with their own prefixes.
 */
import type { DekStore, KekProvider } from '@rekey/crypto-core';
import type { ScheduleConfig } from '@rekey/worker/config';
import type { ControlStore, RunRecord } from '@rekey/worker/control';
import type { RotationRequest } from '@rekey/worker/engine';
import type { Queue } from 'bullmq';

import type { LoginLimiter } from './auth/login-limiter.ts';
import type { SessionStore } from './auth/sessions.ts';

/** A KEK name as the dashboard shows it. */
export interface DashboardKek {
  readonly name: string;
  /** The provider plugin name from the configuration (`local`, `aws-kms`, ...). */
  readonly providerName: string;
  readonly provider: KekProvider;
  readonly schedule: ScheduleConfig | undefined;
  readonly retireAfterMs: number | undefined;
}

/** A managed database as the dashboard shows it. */
export interface DashboardDatabase {
  readonly name: string;
  readonly store: DekStore;
}

/** One live event of the engine, as read from the Redis events stream. */
export interface EngineEvent {
  /** The Redis stream id, e.g. `1764772800000-0`. */
  readonly streamId: string;
  readonly runId: string;
  readonly type: string;
}

/** Live engine events: a reader of the events stream. */
export interface EngineEventSource {
  /** Settles once the source knows where it starts reading: events after that are delivered. */
  readonly ready: Promise<void>;
  /** Calls `listener` for every new event until the returned function is called. */
  subscribe(listener: (event: EngineEvent) => void): () => void;
  close(): Promise<void>;
}

/** Queue operations of the engine that the run actions use. */
export interface EngineQueueAccess {
  /** Every queue of the engine (control and one batch queue per database), for bull-board. */
  all(): Queue[];
  /** The batch queue of one database. */
  batch(database: string): Queue;
  /** The control queue (scheduled rotations live there). */
  control(): Queue;
}

/**
 * The engine's operator actions on a run (`@rekey/worker/engine` run controls). They throw the
 * engine's `RunControlError` when the run is unknown or its state refuses the action.
 */
export interface RunControls {
  pause(runId: string, actor: string): Promise<RunRecord>;
  unpause(runId: string, actor: string): Promise<RunRecord>;
  cancel(runId: string, actor: string): Promise<RunRecord>;
  retry(runId: string, actor: string): Promise<{ run: RunRecord; joined: boolean }>;
}

/** Everything the dashboard needs. */
export interface DashboardBackend {
  readonly control: ControlStore;
  readonly keks: readonly DashboardKek[];
  readonly databases: readonly DashboardDatabase[];
  readonly queues: EngineQueueAccess;
  readonly events: EngineEventSource;
  /** Starts a run or joins the active one, through the worker engine. */
  trigger(request: RotationRequest): Promise<{ run: RunRecord; joined: boolean }>;
  /** The engine's run controls, each audited with `actor`. */
  readonly controls: RunControls;
  /** Browser sessions, shared through Redis by every dashboard on the same prefix. */
  readonly sessions: SessionStore;
  /** Failed-login counts, shared the same way. */
  readonly loginLimiter: LoginLimiter;
  /** True when Redis and the control store answer. */
  ping(): Promise<{ redis: boolean; control: boolean }>;
  close(): Promise<void>;
}
