-- wrk-auth.lua -- the requests of the bench/*.sh scripts, for wrk, and a
-- count of the answers by status (wrk itself only counts "non-2xx").
--
--   wrk ... -s wrk-auth.lua https://127.0.0.1:PORT/PATH -- validate TOKEN
--   wrk ... -s wrk-auth.lua https://127.0.0.1:PORT/PATH -- login PREFIX N PASSWORD
--
-- validate: GET with "Authorization: Bearer TOKEN" on every request.
-- login: POST a JSON login as PREFIX1 .. PREFIXN in turn (each wrk thread
-- starts at another user), all with PASSWORD.
--
-- At the end it prints one line for the scripts to read:
--   wrk-auth: requests=N seconds=S p50_ms=X p99_ms=Y max_ms=Z errors=E statuses=200:N,503:M

local threads = {}
local thread_count = 0

function setup(thread)
    thread:set("thread_index", thread_count)
    thread_count = thread_count + 1
    table.insert(threads, thread)
end

function init(args)
    mode = args[1]
    statuses = {}
    if mode == "validate" then
        prepared = wrk.format("GET", nil,
            { ["Host"] = wrk.host, ["Authorization"] = "Bearer " .. args[2] })
    elseif mode == "login" then
        prefix = args[2]
        user_count = tonumber(args[3])
        password = args[4]
        next_user = thread_index % user_count
    else
        error("wrk-auth.lua: mode must be validate or login")
    end
end

function request()
    if mode == "validate" then
        return prepared
    end
    next_user = next_user % user_count + 1
    local body = string.format('{"username":"%s%d","password":"%s"}',
        prefix, next_user, password)
    return wrk.format("POST", nil,
        { ["Host"] = wrk.host, ["Content-Type"] = "application/json" }, body)
end

function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
    local total = {}
    for _, thread in ipairs(threads) do
        for status, n in pairs(thread:get("statuses")) do
            total[status] = (total[status] or 0) + n
        end
    end
    local parts = {}
    for status, n in pairs(total) do
        table.insert(parts, status .. ":" .. n)
    end
    table.sort(parts)
    local e = summary.errors
    io.write(string.format(
        "wrk-auth: requests=%d seconds=%.3f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f errors=%d statuses=%s\n",
        summary.requests, summary.duration / 1e6,
        latency:percentile(50) / 1e3, latency:percentile(99) / 1e3,
        latency.max / 1e3, e.connect + e.read + e.write + e.timeout,
        table.concat(parts, ",")))
end
