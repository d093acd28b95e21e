-- GET an admin changelist (`wrk ... -- /admin/calibrations/calibration/`) as a signed-in
-- staff member: the session cookie the runner made, no token.
package.path = "bench/wrk/?.lua;" .. package.path
local common = require("common")

function init(args)
  common.seed()
  path = args[1] or "/admin/"
  headers = { ["Cookie"] = "sessionid=" .. (os.getenv("BENCH_SESSION") or "") }
end

function request()
  return wrk.format("GET", path, headers)
end

setup = common.setup
done = common.done
