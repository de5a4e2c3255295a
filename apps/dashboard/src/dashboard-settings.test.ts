import { describe, expect, it } from 'vitest';

import { settingsFromEnv } from './dashboard-settings.ts';

const operator = 'operator-token-cccccccccccc';

describe('the dashboard settings', () => {
  it('listen on 127.0.0.1:8080 by default', () => {
    const s = settingsFromEnv({ REKEY_DASHBOARD_OPERATOR_TOKEN: operator });
    expect(s).toMatchObject({ host: '127.0.0.1', port: 8080, publicOrigin: undefined });
    expect(s.tokens.roleOf(operator)).toBe('operator');
  });

  it('take a public origin, port and cookie flag from the environment', () => {
    const s = settingsFromEnv({
      REKEY_DASHBOARD_OPERATOR_TOKEN: operator,
      REKEY_DASHBOARD_PORT: '9000',
      REKEY_DASHBOARD_ORIGIN: 'https://rekey.example',
      REKEY_DASHBOARD_SECURE_COOKIES: 'true',
    });
    expect(s).toMatchObject({
      port: 9000,
      publicOrigin: 'https://rekey.example',
      secureCookies: true,
    });
  });

  it('refuse a bad port and an origin with a path', () => {
    const env = { REKEY_DASHBOARD_OPERATOR_TOKEN: operator };
    expect(() => settingsFromEnv({ ...env, REKEY_DASHBOARD_PORT: 'http' })).toThrow(/PORT/);
    expect(() =>
      settingsFromEnv({ ...env, REKEY_DASHBOARD_ORIGIN: 'https://a.example/x' }),
    ).toThrow(/without a path/);
  });
});
