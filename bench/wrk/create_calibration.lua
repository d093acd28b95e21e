-- POST /api/calibrations: one new calibration per request, a random type and value.
package.path = "bench/wrk/?.lua;" .. package.path
local common = require("common")

local types = { "current", "frequency", "gain", "humidity", "offset", "pressure", "temperature", "voltage" }

function init(args)
  common.seed()
  headers = common.json_headers()
end

function request()
  local body = string.format('{"calibration_type": "%s", "value": %.6f, "username": "bench-user%02d"}',
    common.pick(types), math.random() * 2, math.random(20))
  return wrk.format("POST", common.prefix .. "/api/calibrations", headers, body)
end

setup = common.setup
done = common.done
