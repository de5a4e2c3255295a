import { InputError } from '../errors.ts';

/** Length of the GCM IV rekey accepts (SP 800-38D section 8.2.2: 96-bit random IVs). */
export const GCM_IV_LENGTH = 12;
/** Length of the GCM tag rekey writes and accepts. */
export const GCM_TAG_LENGTH = 16;

export function checkAesKeyLength(raw: Uint8Array): void {
  if (raw.length !== 16 && raw.length !== 24 && raw.length !== 32) {
    throw new InputError(`"key" expected 16, 24 or 32 bytes, got ${raw.length}`);
  }
}

export function checkIv(iv: Uint8Array): void {
  if (iv.length !== GCM_IV_LENGTH) {
    throw new InputError(`"iv" expected ${GCM_IV_LENGTH} bytes, got ${iv.length}`);
  }
}

export function checkSealed(sealed: Uint8Array): void {
  if (sealed.length < GCM_TAG_LENGTH) {
    throw new InputError(
      `"sealed" expected at least the ${GCM_TAG_LENGTH}-byte tag, got ${sealed.length} bytes`,
    );
  }
}

export function checkHkdfLength(length: number): void {
  if (!Number.isInteger(length) || length < 1 || length > 255 * 32) {
    throw new InputError(`"length" expected an integer from 1 to 8160, got ${length}`);
  }
}
