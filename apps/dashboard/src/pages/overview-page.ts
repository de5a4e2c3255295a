/** The overview page: keys, inventory and runs. Filled live from `/api/events`. */
import { html } from 'hono/html';

import type { Caller } from '../auth/guard.ts';
import { layout } from './layout.ts';

/** Renders the overview page for `caller`, with the KEK names an operator may rotate. */
export function overviewPage(caller: Caller, kekNames: readonly string[]) {
  const operator = caller.role === 'operator';
  return layout(
    { title: 'Overview', page: 'overview', caller, current: 'overview' },
    html`<div class="page-head">
        <div>
          <h1>Key health</h1>
          <p class="lede">KEK versions, rotation policy, DEK inventory and rotations in progress.</p>
        </div>
        ${
          operator
            ? html`<form class="start-form" id="start-form" method="post" action="/api/rotations">
          <label for="start-kek">Rotate KEK</label>
          <select id="start-kek" name="kekName">
            ${kekNames.map((k) => html`<option value="${k}">${k}</option>`)}
          </select>
          <input type="hidden" name="_csrf" value="${caller.session?.csrfToken ?? ''}">
          <button type="submit" class="button button-primary" id="start-button">Rotate now</button>
          <p class="form-message" id="start-message" role="status" aria-live="polite"></p>
        </form>`
            : ''
        }
      </div>
      <noscript><p class="notice">Live updates need JavaScript; the JSON API works without it.</p></noscript>
      <section aria-labelledby="keks-heading" class="section">
        <h2 id="keks-heading">KEKs</h2>
        <div class="card-grid" id="keks" aria-busy="true"><p class="muted">Loading…</p></div>
      </section>
      <section aria-labelledby="runs-heading" class="section">
        <h2 id="runs-heading">Rotations in progress</h2>
        <div id="active-runs"><p class="muted">Loading…</p></div>
      </section>
      <section aria-labelledby="inventory-heading" class="section">
        <h2 id="inventory-heading">DEK inventory</h2>
        <p class="section-note">Wrapped DEKs per database and KEK version. Every DEK should end up on the primary.</p>
        <div id="inventory"><p class="muted">Loading…</p></div>
      </section>
      <section aria-labelledby="recent-heading" class="section">
        <h2 id="recent-heading">Recent runs</h2>
        <div id="recent-runs"><p class="muted">Loading…</p></div>
      </section>`,
  );
}
