/**
 * The application part of the example: a customers table whose e-mail column is encrypted with
 * rekey. Each tenant's rows share one DEK (the envelope's scope), and each value is bound to its
 * table, column and row, so a value copied elsewhere does not decrypt.
 */
import type { Envelope } from '@rekey/crypto-core';
import type postgres from 'postgres';

/** A customer as the application sees it. */
export interface Customer {
  readonly id: string;
  readonly tenant: string;
  readonly name: string;
  readonly email: string;
}

/** Customers in PostgreSQL, e-mail addresses encrypted at rest. */
export class CustomerVault {
  readonly #sql: postgres.Sql;
  readonly #envelope: Envelope;
  readonly table: string;

  constructor(sql: postgres.Sql, envelope: Envelope, table = 'customers') {
    this.#sql = sql;
    this.#envelope = envelope;
    this.table = table;
  }

  /** Creates the table if it is missing. */
  async migrate(): Promise<void> {
    await this.#sql`CREATE TABLE IF NOT EXISTS ${this.#sql(this.table)} (
      id uuid PRIMARY KEY,
      tenant text NOT NULL,
      name text NOT NULL,
      email text NOT NULL
    )`;
  }

  /** Stores a new customer; the e-mail address is written as rekey's text form (`rk:...`). */
  async add(customer: Omit<Customer, 'id'>): Promise<string> {
    const id = crypto.randomUUID();
    const email = await this.#envelope.encryptText(customer.email, {
      scope: customer.tenant,
      context: this.#context(id),
    });
    await this.#sql`INSERT INTO ${this.#sql(this.table)} (id, tenant, name, email)
      VALUES (${id}, ${customer.tenant}, ${customer.name}, ${email})`;
    return id;
  }

  /**
   * Reads a customer back and decrypts the e-mail address.
   *
   * @throws {DecryptionError} when the stored value belongs to another row or was changed.
   * @throws {DekNotFoundError} when the tenant was forgotten (its DEK shredded).
   */
  async get(id: string): Promise<Customer | undefined> {
    const [row] = await this.#sql<Customer[]>`SELECT id, tenant, name, email
      FROM ${this.#sql(this.table)} WHERE id = ${id}`;
    if (row === undefined) return undefined;
    const email = await this.#envelope.decryptText(row.email, { context: this.#context(id) });
    return { ...row, email };
  }

  /**
   * Forgets a tenant by crypto-shredding: its DEK goes, so its rows (and every backup of them)
   * can never be decrypted again. The rows stay until the application deletes them.
   */
  async forgetTenant(tenant: string): Promise<number> {
    return this.#envelope.shred(tenant);
  }

  #context(id: string): Record<string, string> {
    return { table: this.table, column: 'email', row: id };
  }
}
