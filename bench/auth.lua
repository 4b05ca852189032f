-- wrk script of bench/run.sh: GET with "Authorization: Bearer $TOKEN" (no header when TOKEN
-- is unset or empty, e.g. for bench_hello), or, when BODY_FILE names a file, POST of that
-- file's content as application/json. Prints one machine-readable summary line at the end:
--   BENCH requests=N duration_us=N rps=F p50_us=N p90_us=N p99_us=N max_us=N
--         connect=N read=N write=N status=N timeout=N
-- (status counts non-2xx/3xx answers; timeout counts requests that waited longer than
-- wrk's --timeout, which is how a starved connection shows up).
local token = os.getenv("TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
local body_file = os.getenv("BODY_FILE")
if body_file and body_file ~= "" then
  local f = assert(io.open(body_file, "rb"))
  wrk.method = "POST"
  wrk.body = f:read("*a")
  f:close()
  wrk.headers["Content-Type"] = "application/json"
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d" ..
    " connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
