-- GET /healthz: no database, no DRF, no authentication. The floor: what gunicorn and Django's
-- middleware alone cost per request on this machine, beside which every scenario is read.
package.path = "bench/wrk/?.lua;" .. package.path
local common = require("common")

function init(args)
  common.seed()
end

function request()
  return wrk.format("GET", "/healthz")
end

setup = common.setup
done = common.done
