/** The page of one rotation run. Filled live from `/api/events?run=<id>`. */
import { html } from 'hono/html';

import type { Caller } from '../auth/guard.ts';
import { layout } from './layout.ts';

/** Renders the run page frame for `runId`. */
export function runPage(caller: Caller, runId: string) {
  const short = runId.slice(0, 8);
  return layout(
    { title: `Run ${short}`, page: 'run', caller, runId },
    html`<nav aria-label="Breadcrumb" class="breadcrumb"><a href="/">Overview</a> <span aria-hidden="true">/</span> <span>Run ${short}</span></nav>
      <div class="page-head">
        <div>
          <h1 id="run-title">Rotation run <code>${short}</code></h1>
          <p class="lede" id="run-subtitle">Loading…</p>
        </div>
        ${
          caller.role === 'operator'
            ? html`<div class="run-actions" id="run-actions" role="group" aria-label="Run actions"></div>`
            : ''
        }
      </div>
      <p class="form-message" id="action-message" role="status" aria-live="polite"></p>
      <section aria-labelledby="progress-heading" class="section">
        <h2 id="progress-heading" class="visually-hidden">Progress</h2>
        <div id="run-summary" aria-busy="true"><p class="muted">Loading…</p></div>
      </section>
      <section aria-labelledby="db-heading" class="section">
        <h2 id="db-heading">Databases</h2>
        <div id="run-databases"></div>
      </section>
      <div class="two-col">
        <section aria-labelledby="throughput-heading" class="section">
          <h2 id="throughput-heading">Throughput</h2>
          <div class="chart-box"><canvas id="throughput-chart" role="img" aria-label="DEKs rewrapped per second over time"></canvas></div>
        </section>
        <section aria-labelledby="errors-heading" class="section">
          <h2 id="errors-heading">Errors</h2>
          <div id="run-errors"></div>
        </section>
      </div>
      <section aria-labelledby="audit-heading" class="section">
        <h2 id="audit-heading">Audit trail</h2>
        <div id="run-audit"></div>
      </section>`,
  );
}
