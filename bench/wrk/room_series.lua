-- GET /api/measurements/{room_id}/series?bucket=1h&from=&to=: the last week in 1-hour buckets.
package.path = "bench/wrk/?.lua;" .. package.path
local common = require("common")

function init(args)
  common.seed()
  headers = common.headers()
  rooms = common.lines("rooms.txt")
  local to = common.history_end
  query = string.format("?bucket=1h&from=%s&to=%s",
    os.date("!%Y-%m-%dT%H:%M:%SZ", to - 7 * 86400), os.date("!%Y-%m-%dT%H:%M:%SZ", to))
end

function request()
  return wrk.format("GET", common.prefix .. "/api/measurements/" .. common.pick(rooms) .. "/series" .. query, headers)
end

setup = common.setup
done = common.done
