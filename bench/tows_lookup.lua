-- wrk script for bench/run tows: the driver's "where is my car?", GET /api/v1/tows/lookup
-- cycling through the plates of a file (one a line, written by bench_tows gen: active ones,
-- released ones and never-towed ones, some typed "ab-1234"). No ticket.
local paths = {}
local i = 0

function init(args)
    for line in io.lines(args[1]) do
        paths[#paths + 1] = "/api/v1/tows/lookup?plate=" .. line
    end
    i = math.random(#paths)
end

function request()
    i = i % #paths + 1
    return wrk.format("GET", paths[i])
end
