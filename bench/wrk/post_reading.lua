-- POST /api/measurements/{room_id}: one reading, stamped by the server on arrival.
package.path = "bench/wrk/?.lua;" .. package.path
local common = require("common")

function init(args)
  common.seed()
  headers = common.json_headers()
  rooms = common.lines("rooms.txt")
end

function request()
  local body = string.format('{"value": %.2f, "unit": "C", "sensor": "bench"}', 18 + math.random() * 6)
  return wrk.format("POST", common.prefix .. "/api/measurements/" .. common.pick(rooms), headers, body)
end

setup = common.setup
done = common.done
