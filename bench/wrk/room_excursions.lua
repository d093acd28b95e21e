-- GET /api/measurements/{room_id}/excursions: the last 7 days (the route's default window), of
-- a room picked from the sample file named by `wrk ... -- rooms_two_versions.txt` (default: every
-- loaded room).
package.path = "bench/wrk/?.lua;" .. package.path
local common = require("common")

function init(args)
  common.seed()
  headers = common.headers()
  rooms = common.lines(args[1] or "rooms.txt")
end

function request()
  -- `common.prefix` is set when the runner measures framework floors; absent, the API itself.
  local path = (common.prefix or "") .. "/api/measurements/" .. common.pick(rooms) .. "/excursions"
  return wrk.format("GET", path, headers)
end

setup = common.setup
done = common.done
