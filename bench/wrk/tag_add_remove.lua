-- Alternately POST /api/calibrations/{id}/tags and DELETE /api/calibrations/{id}/tags/{tag}.
-- Request n adds the tag to calibration n of the pool and, once warmed up, the next request
-- removes it from calibration n - LAG: far enough back that its add has been answered (at most
-- `connections` requests are in flight), so every remove finds an active tag.
package.path = "bench/wrk/?.lua;" .. package.path
local common = require("common")

local TAG = "bench-add-remove"
local LAG = 256

function init(args)
  common.seed()
  headers = common.json_headers()
  calibrations = common.lines("calibrations.txt")
  -- Two wrk threads must not share calibrations: give each its own half of the pool.
  offset = (common.thread_id - 1) * math.floor(#calibrations / 2) % #calibrations
  n = 0
  added = 0
  removed = 0
  body = string.format('{"tag": "%s"}', TAG)
end

local function calibration(i)
  return calibrations[offset + (i % math.floor(#calibrations / 2)) + 1]
end

function request()
  n = n + 1
  if n % 2 == 1 or added - removed <= LAG then
    added = added + 1
    return wrk.format("POST", "/api/calibrations/" .. calibration(added) .. "/tags", headers, body)
  end
  removed = removed + 1
  return wrk.format("DELETE", "/api/calibrations/" .. calibration(removed) .. "/tags/" .. TAG, headers)
end

setup = common.setup
done = common.done
