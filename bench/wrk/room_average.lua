-- GET /api/measurements/{room_id}/average/{duration}[?method=…]: `wrk ... -- P1D` picks the
-- window, `-- P30D mkt` the window and the method (mean by default).
package.path = "bench/wrk/?.lua;" .. package.path
local common = require("common")

function init(args)
  common.seed()
  headers = common.headers()
  rooms = common.lines("rooms.txt")
  duration = args[1] or "PT1H"
  query = args[2] and ("?method=" .. args[2]) or ""
end

function request()
  return wrk.format("GET", common.prefix .. "/api/measurements/" .. common.pick(rooms) .. "/average/" .. duration .. query, headers)
end

setup = common.setup
done = common.done
