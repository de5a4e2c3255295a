/**
 * The canonical additional data of an in-process DEK wrap. Internal to this package.
 */
import { type DekBinding, type KekRef, utf8 } from '@rekey/crypto-core';

/**
 * `label || len(dekId) || dekId || len(scope) || scope || len(kekName) || kekName || len(ref) ||
 * ref`, each length a u32 big-endian byte count of the UTF-8 field that follows. Length prefixes
 * make the encoding injective: no two bindings share additional data, whatever their characters.
 */
export function wrapAad(label: string, binding: DekBinding, ref: KekRef): Uint8Array {
  const fields = [label, binding.dekId, binding.scope, binding.kekName, ref].map(utf8);
  let length = 0;
  for (const f of fields) length += 4 + f.length;

  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const f of fields) {
    view.setUint32(offset, f.length);
    out.set(f, offset + 4);
    offset += 4 + f.length;
  }
  return out;
}
