-- GET /api/rooms?page_size=50: the first page of rooms, each with its range, status and last
-- reading (every page is the same query shape: a range of the primary key, 3 index probes a row).
package.path = "bench/wrk/?.lua;" .. package.path
local common = require("common")

function init(args)
  common.seed()
  headers = common.headers()
end

function request()
  return wrk.format("GET", (common.prefix or "") .. "/api/rooms?page_size=50", headers)
end

setup = common.setup
done = common.done
