-- wrk script for bench/run tows: trucks posting their positions, 10 points a request, to
-- POST /api/v1/trucks/{code}/positions. args: KEY (a tow_operator key of the ATTT), TRUCKS
-- (G-0001..), THREADS (wrk's -t) and T0 (epoch seconds). wrk thread n posts for trucks n+1,
-- n+1+THREADS, ...; each truck's points go back from T0 five seconds apart, so every point
-- is new (a duplicate would be counted, not stored) and none is in the future. Give each
-- round its own T0 (bench/run: 10,000,000 s apart; a 5 s round goes back about 11,000 s).
local n = 0
local key, trucks, step, t0
local mine, clock, pos = {}, {}, {}
local at = 0
local headers

function setup(thread)
    thread:set("id", n)
    n = n + 1
end

function init(args)
    key, trucks, step, t0 = args[1], tonumber(args[2]), tonumber(args[3]), tonumber(args[4])
    for t = id + 1, trucks, step do
        mine[#mine + 1] = t
        clock[t] = 0
        pos[t] = {8.96 + 0.10 * math.random(), -79.58 + 0.14 * math.random()}
    end
    at = math.random(#mine)
    headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key}
end

function request()
    at = at % #mine + 1
    local t = mine[at]
    local p, points = pos[t], {}
    for k = 1, 10 do
        p[1] = p[1] + 0.0004 * (math.random() - 0.5)
        p[2] = p[2] + 0.0004 * (math.random() - 0.5)
        points[k] = string.format('{"lat":%.6f,"lon":%.6f,"at":"%s","speed_kmh":%.1f,"heading":%d}',
            p[1], p[2], os.date("!%Y-%m-%dT%H:%M:%SZ", t0 - 5 * (clock[t] + k)),
            60 * math.random(), math.random(0, 359))
    end
    clock[t] = clock[t] + 10
    return wrk.format("POST", string.format("/api/v1/trucks/G-%04d/positions", t), headers,
        '{"positions":[' .. table.concat(points, ",") .. ']}')
end
