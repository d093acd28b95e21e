-- Shared by every scenario: the token, the sampled ids the runner wrote, and a machine-readable
-- summary line (`BENCH_RESULT {json}`) that bench/run.py parses.
local common = {}

common.token = os.getenv("BENCH_TOKEN") or ""
common.data_dir = os.getenv("BENCH_DATA") or "."
-- "/floor" when the runner measures a route's framework floor (bench/floors.py), else "".
common.prefix = os.getenv("BENCH_PREFIX") or ""
-- The instants the as-of scenarios ask about: anywhere in the data set's history.
common.history_start = tonumber(os.getenv("BENCH_HISTORY_START") or "0")
common.history_end = tonumber(os.getenv("BENCH_HISTORY_END") or "0")

function common.lines(name)
  local items = {}
  for line in io.lines(common.data_dir .. "/" .. name) do
    if line ~= "" then
      items[#items + 1] = line
    end
  end
  return items
end

function common.pick(items)
  return items[math.random(#items)]
end

function common.random_instant()
  local t = common.history_start + math.random() * (common.history_end - common.history_start)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(t))
end

function common.headers(extra)
  local headers = {
    ["Authorization"] = "Token " .. common.token,
    ["Accept"] = "application/json",
  }
  for k, v in pairs(extra or {}) do
    headers[k] = v
  end
  return headers
end

function common.json_headers()
  return common.headers({ ["Content-Type"] = "application/json" })
end

-- setup() runs in wrk's main Lua state once per thread; init() then runs in each thread's own.
local threads = 0
function common.setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
  thread:set("thread_count", threads)
end

function common.seed()
  -- Seed each thread differently but reproducibly.
  common.thread_id = thread_id or 1
  math.randomseed(12345 + common.thread_id)
end

function common.done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d, "errors_connect": %d, "errors_read": %d, "errors_write": %d, "errors_status": %d, "errors_timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.mean, latency.max, e.connect, e.read, e.write, e.status,
    e.timeout))
end

return common
