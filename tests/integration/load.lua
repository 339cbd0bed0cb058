-- load.lua -- wrk script for the fault tests (tests/integration/load.sh).
--
--   wrk -t N -c N -s load.lua URL -- OUT END LIMIT TOKEN [BADTOKEN EVERY]
--
-- Sends GET URL with "Authorization: Bearer TOKEN" (every EVERY-th request
-- of a thread uses BADTOKEN instead, when given).  A thread stops at its
-- first answer after the time END (seconds since the epoch; a number in
-- the file OUT.end, looked at every 0.1 s, replaces it), or after LIMIT
-- answers when LIMIT > 0.  One connection per thread (-t = -c), so
-- that request() and response() of a thread pair up: that is how it times
-- each request and notices one that never got an answer (after a cut
-- connection wrk calls request() again on a new one).
--
-- When a thread stops it writes OUT.tI (I: its index), OUT.tI.events and
-- OUT.tI.buckets; load.sh merges them.  A thread whose last request is
-- never answered writes nothing, so a hung daemon shows as missing files.
-- (The counts are not handed to done() through thread:get(): wrk 4.1
-- corrupts a thread's Lua stack when it copies a table.)
--   OUT.tI          "key value" lines: issued, answered, lost (a
--                   connection cut before the answer), max_ms,
--                   no_retry_after (503s without it), daemon_errors
--                   (non-2xx with the daemon's JSON error body),
--                   proxy_errors (other non-2xx: the web server's own),
--                   status_NNN, max_ms_NNN
--   OUT.tI.events   "time status ms" for every non-2xx answer, every lost
--                   request (status 000), and the first answer after a
--                   change of status
--   OUT.tI.buckets  "time ok bad": answers per 100 ms, by arrival time
--   OUT.started     written at the first answer of any thread
-- Times are seconds since the epoch (CLOCK_REALTIME, as `date +%s.%N`).

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } load_timespec;
int clock_gettime(int clk, load_timespec *ts);
]]
local ts = ffi.new("load_timespec")
local function now()
    ffi.C.clock_gettime(0, ts)
    return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

local count = 0

function setup(thread)
    thread:set("index", count)
    count = count + 1
end

function init(args)
    out = args[1] .. ".t" .. index
    started_file = args[1] .. ".started"
    end_file = args[1] .. ".end"
    stop_at = tonumber(args[2])
    next_look = 0
    limit = tonumber(args[3]) or 0
    local hdr = function(token)
        return wrk.format("GET", nil,
            { ["Host"] = wrk.host .. ":" .. wrk.port,
              ["Authorization"] = "Bearer " .. token })
    end
    good = hdr(args[4])
    bad = args[5] and hdr(args[5]) or nil
    every = tonumber(args[6]) or 0
    issued, answered, lost, pending, sent_at = 0, 0, 0, 0, 0
    c = { max_ms = 0, no_retry_after = 0, daemon_errors = 0, proxy_errors = 0 }
    statuses, max_by_status, events, buckets = {}, {}, {}, {}
    last_status = nil
    stopped = false
    -- wrk calls request() of the first thread once before the run, to
    -- look at the request; that one is never sent.
    unsent = index == 0
end

local function event(t, status, ms)
    table.insert(events, string.format("%.3f %s %.1f", t, status, ms))
end

function request()
    if unsent or stopped then
        unsent = false
        return good
    end
    local t = now()
    if pending == 1 then
        -- The previous request of this connection got no answer.
        lost = lost + 1
        event(t, "000", (t - sent_at) * 1000)
        last_status = "000"
    end
    issued = issued + 1
    pending = 1
    sent_at = t
    if bad and every > 0 and issued % every == 0 then
        return bad
    end
    return good
end

local function write_files()
    local f = assert(io.open(out, "w"))
    f:write(string.format("issued %d\nanswered %d\nlost %d\n", issued,
        answered, lost))
    for k, v in pairs(c) do f:write(string.format("%s %.1f\n", k, v)) end
    for s, n in pairs(statuses) do f:write(string.format("status_%d %d\n", s, n)) end
    for s, v in pairs(max_by_status) do
        f:write(string.format("max_ms_%d %.1f\n", s, v))
    end
    f:close()
    f = assert(io.open(out .. ".events", "w"))
    for _, line in ipairs(events) do f:write(line, "\n") end
    f:close()
    f = assert(io.open(out .. ".buckets", "w"))
    for b, cell in pairs(buckets) do
        f:write(string.format("%.1f %d %d\n", b / 10, cell[1], cell[2]))
    end
    f:close()
end

function response(status, headers, body)
    if stopped then return end
    local t = now()
    local ms = (t - sent_at) * 1000
    local ok = status >= 200 and status < 300
    pending = 0
    answered = answered + 1
    statuses[status] = (statuses[status] or 0) + 1
    if ms > c.max_ms then c.max_ms = ms end
    if ms > (max_by_status[status] or 0) then max_by_status[status] = ms end
    local b = math.floor(t * 10)
    local cell = buckets[b]
    if not cell then
        cell = { 0, 0 }
        buckets[b] = cell
    end
    if ok then cell[1] = cell[1] + 1 else cell[2] = cell[2] + 1 end
    if not ok then
        -- The daemon's errors are JSON {"error": ...}; the web server's
        -- own (backend gone or cut) are not.
        if body and body:find('^%s*{%s*"error"%s*:') then
            c.daemon_errors = c.daemon_errors + 1
        else
            c.proxy_errors = c.proxy_errors + 1
        end
        if status == 503 and not (headers["Retry-After"] or headers["retry-after"]) then
            c.no_retry_after = c.no_retry_after + 1
        end
    end
    if not ok or tostring(status) ~= last_status then
        event(t, tostring(status), ms)
    end
    last_status = tostring(status)
    if answered == 1 then
        local f = io.open(started_file, "w")
        if f then f:write(string.format("%.3f\n", t)); f:close() end
    end
    if t >= next_look then
        next_look = t + 0.1
        local f = io.open(end_file, "r")
        if f then
            stop_at = tonumber(f:read("*l")) or stop_at
            f:close()
        end
    end
    if t >= stop_at or (limit > 0 and answered >= limit) then
        stopped = true
        write_files()
        wrk.thread:stop()
    end
end
