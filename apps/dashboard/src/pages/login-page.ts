/** The sign-in page: one token field, posted to `/login`; no script. */
import { html } from 'hono/html';

import { layout } from './layout.ts';

/** Renders the sign-in form, with an error line when the last attempt failed. */
export function loginPage(next: string, error: string | undefined) {
  return layout(
    { title: 'Sign in', page: 'login' },
    html`<div class="login-card">
        <h1>Sign in to rekey</h1>
        <p class="lede">Paste your viewer or operator token. It is checked once; the browser keeps only a session cookie.</p>
        ${error === undefined ? '' : html`<p class="alert" role="alert" id="login-error">${error}</p>`}
        <form method="post" action="/login" class="login-form">
          <input type="hidden" name="next" value="${next}">
          <label for="token">Access token</label>
          <input id="token" name="token" type="password" autocomplete="current-password" required autofocus spellcheck="false">
          <button type="submit" class="button button-primary">Sign in</button>
        </form>
      </div>`,
  );
}
