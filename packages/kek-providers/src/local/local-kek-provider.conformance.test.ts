import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describeKekProvider } from '../conformance/index.ts';
import { LocalKekProvider } from './local-kek-provider.ts';

describeKekProvider(
  'local',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rekey-local-'));
    const provider = await LocalKekProvider.open({ path: join(dir, 'keyring.json') });
    return { provider, cleanup: () => rm(dir, { recursive: true, force: true }) };
  },
  { rewrap: false },
);
