import { fileURLToPath } from 'node:url';

import { loadConfigFile } from '@rekey/worker/config';
import { describe, expect, it } from 'vitest';

const composeConfig = fileURLToPath(new URL('../../deploy/rekey.compose.json', import.meta.url));

describe('the docker-compose stack configuration', () => {
  it('is a valid worker config that takes its connection strings from the environment', () => {
    const config = loadConfigFile(composeConfig, {
      REKEY_CONTROL_URL: 'postgres://postgres@postgres:5432/test',
      REKEY_MAIN_DB_URL: 'postgres://postgres@postgres:5432/test',
    });

    expect(config.databases.map((d) => d.name)).toEqual(['main']);
    expect(config.keks.map((k) => k.name)).toEqual(['default']);
  });

  it('refuses to start when the environment lacks a connection string', () => {
    expect(() => loadConfigFile(composeConfig, {})).toThrow(/REKEY_(CONTROL|MAIN_DB)_URL/);
  });
});
