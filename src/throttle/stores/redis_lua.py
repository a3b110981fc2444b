"""Lua for the Redis store: each decision is atomic, and a chunk of decisions is one script call.

The rules are those of :mod:`throttle.stores.core`, restated for the server (PROTOCOLS.md §10).
Time comes from Redis ``TIME`` (one clock for every worker, whatever their hosts' clocks say) unless
the caller passes ``now`` (tests drive a fake clock that way). Times are integer microseconds,
written with ``string.format('%d')`` because Lua's default number formatting (``%.14g``) would round
them. Every key a script touches is passed in KEYS; the store calls a script only with keys of one
hash tag when it talks to a Redis Cluster. A chunk's answers come back as one string (``"1,0,1"``),
which costs the client one parse instead of one per message.
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
local function numbers(spec)
  local out = {}
  for tok in string.gmatch(spec, '%S+') do out[#out + 1] = tonumber(tok) end
  return out
end
"""

# KEYS: the chunk's bucket keys (1..nb), then one reservation key per distinct token.
# ARGV: now|'', max_wait, grace_ms, "interval burst" per bucket, then per request (one string of
#       numbers): "token_key_offset cost n bucket_index*n" (offset 1-based, after the buckets).
# Returns "now,wait,wait,..." (wait: 0 allowed, >0 reserved slot, <0 refused).
RATE_ACQUIRE = _NOW + """
local max_wait, grace = tonumber(ARGV[2]), tonumber(ARGV[3])
local spec = numbers(ARGV[4])
local nb = #spec / 2
local interval, burst, tat, dirty = {}, {}, {}, {}
for i = 1, nb do
  interval[i], burst[i] = spec[2 * i - 1], spec[2 * i]
  tat[i] = tonumber(redis.call('GET', KEYS[i]) or '0')
end
local req = numbers(ARGV[5])
local a = 1
local out = {fmt(now)}
while a <= #req do
  local rk = KEYS[nb + req[a]]
  local cost, n = req[a + 1], req[a + 2]
  a = a + 3
  local w
  local slot = redis.call('GET', rk)
  if slot then
    slot = tonumber(slot)
    if slot <= now then redis.call('DEL', rk); w = 0 else w = slot - now end
  else
    local allow = now
    for j = 0, n - 1 do
      local b = req[a + j]
      local t = tat[b] + (cost - 1 - burst[b]) * interval[b]
      if t > allow then allow = t end
    end
    w = allow - now
    if w > max_wait then
      w = -w
    else
      for j = 0, n - 1 do
        local b = req[a + j]
        tat[b] = math.max(tat[b], allow) + cost * interval[b]
        dirty[b] = true
      end
      if w > 0 then redis.call('SET', rk, fmt(allow), 'PX', grace + math.ceil(w / 1000)) end
    end
  end
  a = a + n
  out[#out + 1] = fmt(w)
end
for b, _ in pairs(dirty) do
  redis.call('SET', KEYS[b], fmt(tat[b]), 'PX', math.ceil((tat[b] - now) / 1000) + 1000)
end
return table.concat(out, ',')
"""

# KEYS: bucket keys (1..nb), then the reservation keys to drop.  ARGV: now|'', nb, (interval*cost) * nb.
RATE_RELEASE = _NOW + """
local nb = tonumber(ARGV[2])
for i = 1, nb do
  local t = redis.call('GET', KEYS[i])
  if t then
    local back = math.max(now, tonumber(t) - tonumber(ARGV[2 + i]))
    redis.call('SET', KEYS[i], fmt(back), 'PX', math.ceil((back - now) / 1000) + 1000)
  end
end
for i = nb + 1, #KEYS do redis.call('DEL', KEYS[i]) end
return fmt(now)
"""

# KEYS: one key per id.  ARGV: now|'', ttl_us.  Returns "1" claimed / "0" duplicate, per key.
CLAIM = _NOW + """
local ttl = tonumber(ARGV[2])
local until_, px = fmt(now + ttl), math.ceil(ttl / 1000)
local out = {}
for i = 1, #KEYS do
  local held = redis.call('GET', KEYS[i])
  if held and tonumber(held) > now then
    out[i] = '0'
  else
    redis.call('SET', KEYS[i], until_, 'PX', px)
    out[i] = '1'
  end
end
return table.concat(out)
"""

# KEYS: one sorted set per check, request after request.
# ARGV: now|'', retention_us, "n (max_age_us limit reset_us)*n" per request as one string of numbers,
#       then one member per request.  Returns "wait,wait,..." per request (0: counted everywhere).
CAP_RESERVE = _NOW + """
local retention = tonumber(ARGV[2])
local horizon = fmt(now - retention)
local px = math.ceil(retention / 1000)
local spec = numbers(ARGV[3])
local a, k, out = 1, 1, {}
for r = 4, #ARGV do
  local member, n = ARGV[r], spec[a]
  a = a + 1
  local wait, fresh = 0, {}
  for i = 1, n do
    local key = KEYS[k]
    local max_age, limit, reset = spec[a], spec[a + 1], spec[a + 2]
    a, k = a + 3, k + 1
    redis.call('ZREMRANGEBYSCORE', key, '-inf', horizon)
    if not redis.call('ZSCORE', key, member) then
      local win = redis.call('ZRANGEBYSCORE', key, '(' .. fmt(now - max_age), '+inf', 'WITHSCORES')
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
      fresh[#fresh + 1] = key
    end
  end
  if wait == 0 then
    for _, key in ipairs(fresh) do
      redis.call('ZADD', key, fmt(now), member)
      redis.call('PEXPIRE', key, px)
    end
  end
  out[#out + 1] = fmt(wait)
end
return table.concat(out, ',')
"""

# KEYS: the sorted sets, request after request.  ARGV: per request: member, n.
CAP_RELEASE = """
local a, k = 1, 1
while a <= #ARGV do
  local member, n = ARGV[a], tonumber(ARGV[a + 1])
  a = a + 2
  for i = 1, n do redis.call('ZREM', KEYS[k], member); k = k + 1 end
end
return 1
"""

# KEYS[1]: the opt-out hash.  ARGV: numbers.  Returns "1"/"0" per number.
OPTOUT_CHECK = """
local out = {}
for i = 1, #ARGV do
  out[i] = redis.call('HEXISTS', KEYS[1], ARGV[i]) == 1 and '1' or '0'
end
return table.concat(out)
"""
