-- wrk script for bench/run ingest: GET /api/v1/reports?bbox=... cycling through boxes read
-- from a file (one "min_lon,min_lat,max_lon,max_lat" per line, each holding about 1,000
-- cases, written by bench_ingest boxes).
local paths = {}
local i = 0

function init(args)
    for line in io.lines(args[1]) do
        paths[#paths + 1] = "/api/v1/reports?limit=1000&bbox=" .. line
    end
end

function request()
    i = i % #paths + 1
    return wrk.format("GET", paths[i])
end
