-- GET /api/calibrations/{id}: one calibration with the tags it carries now.
package.path = "bench/wrk/?.lua;" .. package.path
local common = require("common")

function init(args)
  common.seed()
  headers = common.headers()
  calibrations = common.lines("calibrations.txt")
end

function request()
  return wrk.format("GET", common.prefix .. "/api/calibrations/" .. common.pick(calibrations), headers)
end

setup = common.setup
done = common.done
