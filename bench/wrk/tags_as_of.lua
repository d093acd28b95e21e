-- GET /api/calibrations/{id}/tags?timestamp=T: the tags one calibration carried at an instant.
package.path = "bench/wrk/?.lua;" .. package.path
local common = require("common")

function init(args)
  common.seed()
  headers = common.headers()
  calibrations = common.lines("calibrations.txt")
end

function request()
  local path = string.format(common.prefix .. "/api/calibrations/%s/tags?timestamp=%s",
    common.pick(calibrations), common.random_instant())
  return wrk.format("GET", path, headers)
end

setup = common.setup
done = common.done
