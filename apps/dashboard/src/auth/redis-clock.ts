/**
 * The clock of the dashboard's Redis scripts. Every script reads the time once, at its start:
 * `ARGV[1]` when the caller passes a clock (tests), else the Redis server's own `TIME`, which
 * is the same for every replica.
 */

/** Lua that sets `now` (epoch ms); put it first in a script whose `ARGV[1]` is the clock. */
export const REDIS_NOW = `
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;
