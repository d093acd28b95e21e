-- GET /api/calibrations?username=&calibration_type=: the first page (50 rows) of one user's
-- calibrations of one type, newest first.
package.path = "bench/wrk/?.lua;" .. package.path
local common = require("common")

local types = { "current", "frequency", "gain", "humidity", "offset", "pressure", "temperature", "voltage" }

function init(args)
  common.seed()
  headers = common.headers()
end

function request()
  local path = string.format(common.prefix .. "/api/calibrations?username=user%02d&calibration_type=%s&page_size=50",
    math.random(20), common.pick(types))
  return wrk.format("GET", path, headers)
end

setup = common.setup
done = common.done
