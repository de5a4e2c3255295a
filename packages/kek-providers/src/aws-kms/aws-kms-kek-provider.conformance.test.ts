import { afterAll, beforeAll } from 'vitest';

import { type KmsEmulator, startKmsEmulator } from '../../../../test/kms-emulator/index.ts';
import { describeKekProvider } from '../conformance/index.ts';
import { AwsKmsKekProvider } from './aws-kms-kek-provider.ts';

let kms: KmsEmulator;

beforeAll(async () => {
  kms = await startKmsEmulator();
});

afterAll(async () => {
  await kms.close();
});

describeKekProvider(
  'aws-kms (emulator, real SDK)',
  async () => ({
    provider: new AwsKmsKekProvider({
      region: 'us-east-1',
      endpoint: kms.endpoint,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    }),
  }),
  { rewrap: true },
);
