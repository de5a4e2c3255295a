/**
 * The example's PostgreSQL connection. The application owns the pool and passes it to both the
 * DEK store and its own queries; rekey never opens or ends it.
 */
import postgres from 'postgres';

/** A small pool on `url`, quiet about notices (`CREATE TABLE IF NOT EXISTS` raises some). */
export function connect(url: string): postgres.Sql {
  return postgres(url, { max: 4, onnotice: () => {} });
}
