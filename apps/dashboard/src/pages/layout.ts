/**
 * The frame every page shares: head, top bar with navigation and the live status, and main.
 * Pages are semantic HTML rendered with escaping templates; the dynamic parts are filled from the
 * page's event stream by `static/dashboard.js`, which is a file (the CSP allows no inline code).
 */
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';

import type { Caller } from '../auth/guard.ts';

/** What the frame needs to know. */
export interface PageFrame {
  readonly title: string;
  readonly page: 'overview' | 'run' | 'login' | 'not-found';
  readonly caller?: Caller | undefined;
  readonly runId?: string;
  readonly current?: 'overview' | 'queues';
}

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/** Wraps page content in the shared frame. */
export function layout(frame: PageFrame, content: Html): Html {
  const caller = frame.caller;
  const csrf = caller?.session?.csrfToken ?? '';
  return html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="color-scheme" content="light dark">
    <meta name="csrf-token" content="${csrf}">
    <title>${frame.title} · rekey</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="/static/dashboard.css">
    ${
      frame.page === 'login'
        ? ''
        : html`<script src="/static/chart.umd.min.js" defer></script>
    <script src="/static/dashboard.js" defer></script>`
    }
  </head>
  <body data-page="${frame.page}" data-role="${caller?.role ?? ''}" data-run-id="${frame.runId ?? ''}">
    <a class="skip-link" href="#main">Skip to content</a>
    <header class="topbar">
      <a class="brand" href="/"><span class="brand-mark" aria-hidden="true">rk</span> rekey</a>
      ${
        caller === undefined
          ? ''
          : html`<nav aria-label="Main">
        <a href="/" ${frame.current === 'overview' ? html`aria-current="page"` : ''}>Overview</a>
        <a href="/queues">Queues</a>
      </nav>
      <div class="topbar-end">
        <span class="live" id="live-status" role="status" aria-live="polite"
          data-state="connecting">Connecting…</span>
        <span class="role-badge" title="Signed in role">${caller.role}</span>
        ${
          caller.via === 'session'
            ? html`<form method="post" action="/logout" class="logout">
          <input type="hidden" name="_csrf" value="${csrf}">
          <button type="submit" class="button button-quiet">Sign out</button>
        </form>`
            : ''
        }
      </div>`
      }
    </header>
    <main id="main" tabindex="-1">${content}</main>
  </body>
</html>`;
}
