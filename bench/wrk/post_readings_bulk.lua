-- POST /api/measurements/{room_id} with a JSON array of 10,000 readings. The body is built once;
-- each request goes to a new room (`bench-bulk-<thread>-<n>`), so every reading is new.
package.path = "bench/wrk/?.lua;" .. package.path
local common = require("common")

local READINGS = 10000

function init(args)
  common.seed()
  headers = common.json_headers()
  local start = common.history_end - READINGS * 60
  local parts = {}
  for i = 1, READINGS do
    parts[i] = string.format('{"timestamp": "%s", "value": %.2f}',
      os.date("!%Y-%m-%dT%H:%M:%SZ", start + i * 60), 18 + math.random() * 6)
  end
  body = "[" .. table.concat(parts, ",") .. "]"
  n = 0
  run = os.getenv("BENCH_RUN_ID") or "0"
end

function request()
  n = n + 1
  local path = string.format(common.prefix .. "/api/measurements/bench-bulk-%s-%d-%d", run, common.thread_id, n)
  return wrk.format("POST", path, headers, body)
end

setup = common.setup
done = common.done
