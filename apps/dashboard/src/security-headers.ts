/**
 * Security headers on every response: a strict Content-Security-Policy (scripts and styles from
 * this origin only, nothing inline), no framing, no sniffing, no referrer to other origins.
 * bull-board's prebuilt UI sets inline styles, so its subtree alone allows inline styles; its
 * scripts stay same-origin files.
 */
import type { MiddlewareHandler } from 'hono';

/** The policy of the dashboard's own pages and API. */
export const STRICT_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The policy of the mounted bull-board UI. */
export const QUEUE_BOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Sets the headers; `queueBoardPath` gets the bull-board policy. */
export function securityHeaders(queueBoardPath: string): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const board = c.req.path === queueBoardPath || c.req.path.startsWith(`${queueBoardPath}/`);
    c.header('Content-Security-Policy', board ? QUEUE_BOARD_CSP : STRICT_CSP);
    c.header('X-Frame-Options', 'DENY');
    c.header('X-Content-Type-Options', 'nosniff');
    // `same-origin` keeps Origin and Referer on our own requests (the CSRF check reads them).
    c.header('Referrer-Policy', 'same-origin');
    c.header('Cross-Origin-Opener-Policy', 'same-origin');
    c.header('Cross-Origin-Resource-Policy', 'same-origin');
    c.header('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=()');
    if (new URL(c.req.url).protocol === 'https:') {
      c.header('Strict-Transport-Security', 'max-age=31536000');
    }
    if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
  };
}
