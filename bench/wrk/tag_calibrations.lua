-- GET /api/tags/{tag}/calibrations?timestamp=T: the first page of the calibrations that carried
-- a tag at an instant, newest first.
package.path = "bench/wrk/?.lua;" .. package.path
local common = require("common")

function init(args)
  common.seed()
  headers = common.headers()
  tags = common.lines("tags.txt")
end

function request()
  local path = string.format(common.prefix .. "/api/tags/%s/calibrations?timestamp=%s",
    common.pick(tags), common.random_instant())
  return wrk.format("GET", path, headers)
end

setup = common.setup
done = common.done
