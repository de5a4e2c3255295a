import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { randomBytes } from '@rekey/crypto-core';

import { describeKekProvider } from '../conformance/index.ts';
import { PlatformSecretKekProvider } from './platform-secret-kek-provider.ts';

describeKekProvider(
  'platform-secret',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rekey-platform-'));
    const provider = await PlatformSecretKekProvider.open({
      secret: { bytes: randomBytes(32) },
      versions: { stateFile: join(dir, 'state.json') },
    });
    return { provider, cleanup: () => rm(dir, { recursive: true, force: true }) };
  },
  { rewrap: false },
);
