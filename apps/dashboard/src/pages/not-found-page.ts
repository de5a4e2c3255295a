/** The page for a run id that does not exist. */
import { html } from 'hono/html';

import type { Caller } from '../auth/guard.ts';
import { layout } from './layout.ts';

/** Renders the not-found page inside the shared frame. */
export function notFoundPage(caller: Caller) {
  return layout(
    { title: 'Not found', page: 'not-found', caller },
    html`<div class="page-head">
        <div>
          <h1>No such run</h1>
          <p class="lede">The run does not exist, or its id is mistyped. <a href="/">Back to the overview</a>.</p>
        </div>
      </div>`,
  );
}
