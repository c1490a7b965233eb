-- wrk script for bench/run tiles: GET tiles cycling through the tiles of a file (one "z x y"
-- per line, written by bench_tiles render), as args[2] says: "heat" (/tiles/heat/...png),
-- "cases" (/tiles/cases/...mvt) or "both" (each tile as both, in turn).
local paths = {}
local i = 0

function init(args)
    local what = args[2] or "both"
    for line in io.lines(args[1]) do
        local z, x, y = line:match("(%d+) (%d+) (%d+)")
        if what ~= "cases" then
            paths[#paths + 1] = string.format("/tiles/heat/%s/%s/%s.png", z, x, y)
        end
        if what ~= "heat" then
            paths[#paths + 1] = string.format("/tiles/cases/%s/%s/%s.mvt", z, x, y)
        end
    end
end

function request()
    i = i % #paths + 1
    return wrk.format("GET", paths[i])
end
