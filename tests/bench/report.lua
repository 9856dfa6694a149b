-- report.lua: the one summary line every bench script prints at the end
-- (tests/bench/bench.py parses it).  dofile()d by the wrk scripts, which run
-- with tests/bench as their working directory.
function bench_report(summary, latency, extra)
	local e = summary.errors
	io.write(string.format("BENCH requests=%d duration_us=%d bytes=%d " ..
	    "p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
	    "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d%s\n",
	    summary.requests, summary.duration, summary.bytes,
	    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
	    e.connect, e.read, e.write, e.status, e.timeout, extra or ""))
end
