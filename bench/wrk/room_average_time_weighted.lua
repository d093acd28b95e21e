-- GET /api/measurements/{room_id}/average/{duration}?method=time_weighted (`wrk ... -- P1D`).
package.path = "bench/wrk/?.lua;" .. package.path
local common = require("common")

function init(args)
  common.seed()
  headers = common.headers()
  rooms = common.lines("rooms.txt")
  duration = args[1] or "P1D"
end

function request()
  local path = (common.prefix or "") .. "/api/measurements/" .. common.pick(rooms) .. "/average/"
    .. duration .. "?method=time_weighted"
  return wrk.format("GET", path, headers)
end

setup = common.setup
done = common.done
