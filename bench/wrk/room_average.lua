-- GET /api/measurements/{room_id}/average/{duration}: `wrk ... -- P1D` picks the window.
package.path = "bench/wrk/?.lua;" .. package.path
local common = require("common")

function init(args)
  common.seed()
  headers = common.headers()
  rooms = common.lines("rooms.txt")
  duration = args[1] or "PT1H"
end

function request()
  return wrk.format("GET", common.prefix .. "/api/measurements/" .. common.pick(rooms) .. "/average/" .. duration, headers)
end

setup = common.setup
done = common.done
