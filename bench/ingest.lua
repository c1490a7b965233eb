-- wrk script for bench/run ingest: POST /api/v1/reports with JSON bodies, one point per
-- request from a file of "lat=..&lon=.." lines (inside Panama, from bench_locate --emit),
-- cycling through a few services. No photos, no idempotency key.
local points = {}
local services = {"basura", "fuga_agua", "hueco", "alumbrado", "semaforo", "ruido"}
local i = 0

function init(args)
    for line in io.lines(args[1]) do
        local lat, lon = line:match("lat=([-%d.]+)&lon=([-%d.]+)")
        points[#points + 1] = {lat, lon}
    end
    i = math.random(#points)
end

function request()
    i = i % #points + 1
    local p = points[i]
    local body = string.format(
        '{"service_code":"%s","lat":%s,"lon":%s,"description":"bench %d",' ..
        '"reporter":{"name":"Bench","email":"bench@example.pa"}}',
        services[i % #services + 1], p[1], p[2], i)
    return wrk.format("POST", "/api/v1/reports", {["Content-Type"] = "application/json"}, body)
end
