"""Lua for the Redis store: each decision is one atomic script (PROTOCOLS.md §10).

The rules are those of :mod:`throttle.stores.core`, restated for the server. Time comes from Redis
``TIME`` (one clock for every worker, whatever their hosts' clocks say) unless the caller passes
``now`` (tests drive a fake clock that way). Times are integer microseconds, written with
``string.format('%d')`` because Lua's default number formatting (``%.14g``) would round them. Every
key a script touches is passed in KEYS and shares one hash tag, so the scripts run on Redis Cluster.
"""

from __future__ import annotations

_NOW = """
local now = tonumber(ARGV[1])
if not now then
  redis.replicate_commands()
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local function fmt(x) return string.format('%d', x) end
"""

# KEYS: the batch's bucket keys (1..nb), then one reservation key per distinct token.
# ARGV: now|'', max_wait, nb, (interval, burst) * nb, grace_ms, then per request:
#       token key offset (1-based, after the buckets), cost, n, bucket index * n.
# Returns: {now, wait per request} (wait: 0 allowed, >0 reserved slot, <0 refused).
RATE_ACQUIRE = (
    _NOW
    + """
local max_wait = tonumber(ARGV[2])
local nb = tonumber(ARGV[3])
local interval, burst, tat, dirty = {}, {}, {}, {}
local a = 4
for i = 1, nb do
  interval[i] = tonumber(ARGV[a]); burst[i] = tonumber(ARGV[a + 1]); a = a + 2
  tat[i] = tonumber(redis.call('GET', KEYS[i]) or '0')
end
local grace = tonumber(ARGV[a]); a = a + 1
local out = {now}
while a <= #ARGV do
  local rk = KEYS[nb + tonumber(ARGV[a])]
  local cost, n = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  a = a + 3
  local w
  local slot = redis.call('GET', rk)
  if slot then
    slot = tonumber(slot)
    if slot <= now then redis.call('DEL', rk); w = 0 else w = slot - now end
  else
    local allow = now
    for j = 0, n - 1 do
      local b = tonumber(ARGV[a + j])
      local t = tat[b] + (cost - 1 - burst[b]) * interval[b]
      if t > allow then allow = t end
    end
    w = allow - now
    if w > max_wait then
      w = -w
    else
      for j = 0, n - 1 do
        local b = tonumber(ARGV[a + j])
        tat[b] = math.max(tat[b], allow) + cost * interval[b]
        dirty[b] = true
      end
      if w > 0 then redis.call('SET', rk, fmt(allow), 'PX', grace + math.ceil(w / 1000)) end
    end
  end
  a = a + n
  out[#out + 1] = w
end
for b, _ in pairs(dirty) do
  redis.call('SET', KEYS[b], fmt(tat[b]), 'PX', math.ceil((tat[b] - now) / 1000) + 1000)
end
return out
"""
)

# KEYS: bucket keys (1..nb), then the reservation keys to drop.  ARGV: now|'', nb, (interval*cost) * nb.
RATE_RELEASE = (
    _NOW
    + """
local nb = tonumber(ARGV[2])
for i = 1, nb do
  local t = redis.call('GET', KEYS[i])
  if t then
    local back = math.max(now, tonumber(t) - tonumber(ARGV[2 + i]))
    redis.call('SET', KEYS[i], fmt(back), 'PX', math.ceil((back - now) / 1000) + 1000)
  end
end
for i = nb + 1, #KEYS do redis.call('DEL', KEYS[i]) end
return now
"""
)

# KEYS[1]: the id key.  ARGV: now|'', ttl_us.  Returns 1 claimed, 0 duplicate.
CLAIM = (
    _NOW
    + """
local held = redis.call('GET', KEYS[1])
if held and tonumber(held) > now then return 0 end
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], fmt(now + ttl), 'PX', math.ceil(ttl / 1000))
return 1
"""
)

# KEYS: one sorted set per check (one subscriber, one hash tag).
# ARGV: now|'', retention_us, member, (max_age_us, limit, reset_us) per key.  Returns {now, wait}.
CAP_RESERVE = (
    _NOW
    + """
local retention, member = tonumber(ARGV[2]), ARGV[3]
local wait, fresh = 0, {}
for i = 1, #KEYS do
  local k = KEYS[i]
  local max_age = tonumber(ARGV[1 + 3 * i])
  local limit, reset = tonumber(ARGV[2 + 3 * i]), tonumber(ARGV[3 + 3 * i])
  redis.call('ZREMRANGEBYSCORE', k, '-inf', fmt(now - retention))
  if not redis.call('ZSCORE', k, member) then
    local win = redis.call('ZRANGEBYSCORE', k, '(' .. fmt(now - max_age), '+inf', 'WITHSCORES')
    local count = #win / 2
    if count >= limit then
      if reset > 0 then
        wait = math.max(wait, reset)
      else
        local oldest = now
        if limit > 0 then oldest = tonumber(win[2 * (count - limit) + 2]) end
        wait = math.max(wait, oldest + max_age - now)
      end
    end
    fresh[#fresh + 1] = k
  end
end
if wait > 0 then return {now, wait} end
for _, k in ipairs(fresh) do
  redis.call('ZADD', k, fmt(now), member)
  redis.call('PEXPIRE', k, math.ceil(retention / 1000))
end
return {now, 0}
"""
)
