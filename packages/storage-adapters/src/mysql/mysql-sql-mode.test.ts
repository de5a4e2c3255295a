/**
 * The MySQL store under the session `sql_mode` that changes how string literals read:
 * `NO_BACKSLASH_ESCAPES` makes a backslash an ordinary character, so a value escaped the default
 * way (`\'`) would end its literal early. The conformance suite runs on such sessions, and
 * awkward text is written and read back exactly in both modes.
 */
import { dekIdToBytes, newDekId, toHex, utf8 } from '@rekey/crypto-core';
import mysql from 'mysql2/promise';
import { describe, expect, it } from 'vitest';

import { essence, insertedEssence, mustGet, newDek } from '../conformance/fixtures.ts';
import { describeDekStore, uniqueTableName } from '../conformance/index.ts';
import { MysqlDekStore } from './index.ts';

const CONNECTION = { host: '127.0.0.1', port: 3306, user: 'root', database: 'test' };
const ADD_MODE = "SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',NO_BACKSLASH_ESCAPES')";

function connect(): mysql.Pool {
  return mysql.createPool({ ...CONNECTION, connectionLimit: 4 });
}

/**
 * A pool whose every connection runs with `NO_BACKSLASH_ESCAPES`. The pool emits 'connection'
 * for each new connection before handing it out, and a connection runs its commands in order,
 * so the SET precedes every statement of the store; if it fails the connection is destroyed,
 * so nothing runs in the wrong mode.
 */
function connectWithoutBackslashEscapes(): mysql.Pool {
  const pool = connect();
  pool.pool.on('connection', (conn) => {
    conn.query(ADD_MODE, (error) => {
      if (error) conn.destroy();
    });
  });
  return pool;
}

async function sessionMode(pool: mysql.Pool): Promise<string> {
  const [rows] = await pool.query('SELECT @@SESSION.sql_mode AS mode');
  return (rows as { mode: string }[])[0]?.mode ?? '';
}

async function dropTable(table: string): Promise<void> {
  const pool = connect();
  try {
    await pool.query(`DROP TABLE IF EXISTS \`${table}\`, \`${table}_schema\``);
  } finally {
    await pool.end();
  }
}

describeDekStore('mysql with NO_BACKSLASH_ESCAPES', async ({ table }) => {
  const pool = connectWithoutBackslashEscapes();
  if (!(await sessionMode(pool)).includes('NO_BACKSLASH_ESCAPES')) {
    await pool.end();
    throw new Error('the test pool did not set NO_BACKSLASH_ESCAPES');
  }
  const store = new MysqlDekStore(pool, { table });
  let ended = false;
  return {
    store,
    bulkInsert: (records) => store.insertMany(records),
    disconnect: async () => {
      ended = true;
      await pool.end();
    },
    dispose: async () => {
      if (!ended) await pool.end();
      await dropTable(table);
    },
  };
});

/** Text the two escaping conventions read differently, or that LIKE would take as a pattern. */
const AWKWARD = [
  '\\',
  "'",
  "\\'",
  '"',
  '%',
  '_',
  "''",
  '\\\\',
  "\\\\'",
  'ends in a backslash\\',
  '\\"',
  '\\0 \\n \\Z \\b',
  '\\% \\_',
  '`; --',
  'é ü 日本 🔑 \u00a0',
];

/**
 * A row of the store's six inserted columns in SQL, for a crafted value to smuggle in. It spells
 * values as `0x..` numbers because every quote in a crafted value is escaped.
 */
function craftedRow(id: string, kekRef: string): string {
  const hex = (bytes: Uint8Array) => `0x${toHex(bytes)}`;
  const values = [hex(dekIdToBytes(id)), '0x61', hex(utf8('pii')), hex(utf8(kekRef)), '0x00'];
  return `(${values.join(', ')}, UTC_TIMESTAMP(6))`;
}

const MODES = [
  { name: 'the default sql_mode', connect, escapes: true },
  { name: 'NO_BACKSLASH_ESCAPES', connect: connectWithoutBackslashEscapes, escapes: false },
];

for (const mode of MODES) {
  describe(`MysqlDekStore text values under ${mode.name}`, () => {
    async function withStore(work: (store: MysqlDekStore) => Promise<void>): Promise<void> {
      const table = uniqueTableName();
      const pool = mode.connect();
      try {
        expect((await sessionMode(pool)).includes('NO_BACKSLASH_ESCAPES')).toBe(!mode.escapes);
        const store = new MysqlDekStore(pool, { table });
        await store.migrate();
        await work(store);
      } finally {
        await pool.end();
        await dropTable(table);
      }
    }

    it('round-trips quotes, backslashes and wildcards through every operation', async () => {
      await withStore(async (store) => {
        const deks = AWKWARD.map((text) =>
          newDek({ scope: text, kekName: `n${text}`, kekRef: `local:${text}` }),
        );
        const half = Math.ceil(deks.length / 2);
        for (const d of deks.slice(0, half)) await store.insert(d);
        await store.insertMany(deks.slice(half));

        for (const d of deks) {
          expect(essence(await mustGet(store, d.id))).toEqual(insertedEssence(d));
          expect((await store.findByScope(d.scope)).map((r) => r.id)).toEqual([d.id]);
          expect((await store.findByScope(d.scope, d.kekName)).map((r) => r.id)).toEqual([d.id]);
          expect(await store.countByRef(d.kekName)).toEqual([
            { kekName: d.kekName, kekRef: d.kekRef, count: 1 },
          ]);
          const query = { kekName: d.kekName, kekRefs: [d.kekRef], limit: 10 };
          expect((await store.scan(query)).map((r) => r.id)).toEqual([d.id]);
          expect(await store.scanIds(query)).toEqual([d.id]);
        }
        expect((await store.getMany(deks.map((d) => d.id))).length).toBe(deks.length);

        const swaps = deks.map((d) => ({
          id: d.id,
          expectedRevision: 1,
          expectedKekRef: d.kekRef,
          kekRef: `${d.kekRef}'\\2`,
          wrapped: utf8('w'),
        }));
        expect(await store.compareAndSwap(swaps)).toEqual({
          updated: deks.map((d) => d.id),
          conflicted: [],
        });
        // The old refs, and the revision, no longer match.
        expect((await store.compareAndSwap(swaps)).conflicted).toHaveLength(deks.length);
        for (const d of deks) {
          const r = await mustGet(store, d.id);
          expect([r.scope, r.kekName, r.kekRef, r.revision]).toEqual([
            d.scope,
            d.kekName,
            `${d.kekRef}'\\2`,
            2,
          ]);
        }

        for (const d of deks) expect(await store.deleteScope(d.scope)).toBe(1);
        expect(await store.countByRef()).toEqual([]);
      });
    });

    it('lets no crafted scope or ref read, change, add or delete another row', async () => {
      await withStore(async (store) => {
        const victim = newDek({ scope: 'victim', kekRef: 'local:victim' });
        const attacker = newDek({ scope: 'attacker', kekRef: 'local:attacker' });
        await store.insert(victim);
        await store.insert(attacker);
        const extraId = newDekId();
        // Escaped the default way, the quote after the backslash becomes `\\\'`, which
        // NO_BACKSLASH_ESCAPES reads as three backslashes and the end of the literal: the rest
        // of each value would run as SQL, up to the comment that hides the statement's own tail.
        const everyRow = "\\' OR 1=1 -- ";
        const newRow = craftedRow(extraId, 'local:x');
        const addRow = `\\', 0x6e, 0x6e, 0x01, UTC_TIMESTAMP(6)), ${newRow} -- `;
        const victimRow = craftedRow(victim.id, 'local:pwned');
        const overwrite = `local:\\', 0x01, UTC_TIMESTAMP(6)), ${victimRow} -- `;

        const found = await store.findByScope(everyRow);
        const added = newDek({ scope: addRow });
        await store.insert(added);
        const swapped = await store.compareAndSwap([
          {
            id: attacker.id,
            expectedRevision: 1,
            expectedKekRef: attacker.kekRef,
            kekRef: overwrite,
            wrapped: utf8('new'),
          },
        ]);
        const victimAfter = await store.get(victim.id);
        const extra = await store.get(extraId);
        const deleted = await store.deleteScope(everyRow);

        // One comparison, so that a failure shows every effect at once.
        expect({
          found: found.map((r) => r.id),
          swapped,
          victim: victimAfter && {
            kekRef: victimAfter.kekRef,
            revision: victimAfter.revision,
            wrappedKept: toHex(victimAfter.wrapped) === toHex(victim.wrapped),
          },
          extraAdded: extra !== undefined,
          addedScope: (await store.get(added.id))?.scope,
          attackerRef: (await store.get(attacker.id))?.kekRef,
          deleted,
          rows: await store.countByRef(),
        }).toEqual({
          found: [],
          swapped: { updated: [attacker.id], conflicted: [] },
          victim: { kekRef: victim.kekRef, revision: 1, wrappedKept: true },
          extraAdded: false,
          addedScope: addRow,
          attackerRef: overwrite,
          deleted: 0,
          rows: [
            { kekName: 'pii', kekRef: overwrite, count: 1 },
            { kekName: 'pii', kekRef: 'local:pii/v1', count: 1 },
            { kekName: 'pii', kekRef: 'local:victim', count: 1 },
          ],
        });
      });
    });
  });
}
