-- wrk script for bench/run: cycles through GET /api/v1/locate queries read from a file
-- (one "lat=..&lon=.." per line, points inside Panama written by bench_locate --emit).
local paths = {}
local i = 0

function init(args)
    for line in io.lines(args[1]) do
        paths[#paths + 1] = "/api/v1/locate?" .. line
    end
    i = math.random(#paths)
end

function request()
    i = i % #paths + 1
    return wrk.format("GET", paths[i])
end
