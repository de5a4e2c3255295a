import { afterAll, describe } from 'vitest';

import {
  pinVariable,
  releaseSharedSoftHsm,
  sharedSoftHsm,
  softHsmAvailable,
} from '../../test-support/softhsm.ts';
import { describeKekProvider } from '../conformance/index.ts';
import { openPkcs11KekProvider } from './pkcs11-kek-provider.ts';

const hsm = softHsmAvailable ? sharedSoftHsm() : undefined;
const token = hsm?.createToken('rekey-conformance');

describe.skipIf(hsm === undefined || token === undefined)('pkcs11 against SoftHSM2', () => {
  afterAll(() => {
    if (hsm !== undefined && token !== undefined) hsm.deleteToken(token);
    releaseSharedSoftHsm();
  });

  for (const calls of ['async', 'sync'] as const) {
    describeKekProvider(
      `pkcs11 (${calls} calls)`,
      async () => ({
        provider: await openPkcs11KekProvider({
          modulePath: hsm?.modulePath ?? '',
          tokenLabel: token?.label ?? '',
          pin: { env: token === undefined ? '' : pinVariable(token) },
          sessions: 3,
          calls,
        }),
      }),
      { rewrap: false },
    );
  }
});
