/**
 * The canonical bytes of a DEK binding, for providers that wrap in process (or in an HSM) and
 * authenticate the binding as AES-GCM additional data.
 */
import { utf8 } from './bytes.ts';
import type { DekBinding, KekRef } from './kek-provider.ts';

/**
 * `label || dekId || scope || kekName || ref`, each field as a u32 big-endian byte count followed
 * by its UTF-8 bytes. The length prefixes make the encoding injective: no two bindings (or
 * labels, or refs) share bytes, whatever characters they contain. The label names the wrap
 * format, so one provider's blobs never verify under another's.
 *
 * @example
 * ```ts
 * const aad = encodeDekBinding('rekey/local-wrap/v1', binding, 'local:pii/v3');
 * ```
 */
export function encodeDekBinding(label: string, binding: DekBinding, ref: KekRef): Uint8Array {
  const fields = [label, binding.dekId, binding.scope, binding.kekName, ref];
  // Every rewrap encodes two bindings, so the common all-ASCII case is written in one pass
  // without intermediate arrays; any other character takes the general path.
  let length = 0;
  for (const f of fields) length += 4 + f.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const f of fields) {
    const n = f.length;
    out[offset] = n >>> 24;
    out[offset + 1] = n >>> 16;
    out[offset + 2] = n >>> 8;
    out[offset + 3] = n;
    offset += 4;
    for (let i = 0; i < n; i++) {
      const c = f.charCodeAt(i);
      if (c > 0x7f) return encodeFields(fields);
      out[offset + i] = c;
    }
    offset += n;
  }
  return out;
}

/** The general path: fields with characters beyond ASCII, encoded as UTF-8. */
function encodeFields(fields: readonly string[]): Uint8Array {
  const encoded = fields.map(utf8);
  let length = 0;
  for (const f of encoded) length += 4 + f.length;

  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const f of encoded) {
    view.setUint32(offset, f.length);
    out.set(f, offset + 4);
    offset += 4 + f.length;
  }
  return out;
}
